package glmj.llamacpp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic corpus for comparing tokenizers: curated pieces (code, many scripts, emoji, combining marks,
 * whitespace runs, numbers, contractions, punctuation, special tokens, invalid UTF-8) on their own, then random
 * concatenations of them from a fixed seed.
 */
final class TokenizerCorpus {
    static final List<String> CODE = List.of(
            "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
            "public static void main(String[] args) {\n\tSystem.out.println(\"Hello, \" + args[0]);\n}",
            "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
            "fn main() -> Result<(), Box<dyn Error>> { let v: Vec<u8> = vec![1, 2, 3]; Ok(()) }",
            "const f = async (x) => { await fetch(`/api/${x}`); return x?.y ?? 0; };",
            "func (s *Server) Handle(w http.ResponseWriter, r *http.Request) {\n\tdefer r.Body.Close()\n}",
            "SELECT id, name FROM users WHERE age >= 18 AND name LIKE 'A%' ORDER BY id DESC;",
            "<div class=\"row\"><a href=\"https://example.com/?q=1&r=2\">link</a></div>",
            "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do echo \"$f\"; done",
            "{\"key\": [1, 2.5, -3e-7, true, null], \"nested\": {\"a\": \"b\"}}",
            "name: test\nitems:\n  - one\n  - two\n\tindented: \"yes\"",
            "x = [i**2 for i in range(10) if i % 2 == 0]  # squares\r\n",
            "template<typename T> constexpr T max(T a, T b) { return a > b ? a : b; }",
            "    \t    mixed indentation\n\t\t  more",
            "a+=1;b-=2;c*=3;d/=4;e%=5;f<<=6;g>>=7;h&&=i||j",
            "\\documentclass{article}\\begin{document}$\\frac{a}{b}$\\end{document}");

    static final List<String> SCRIPTS = List.of(
            "Hello world", "HELLO WORLD", "hello", "Äpfel über Öl, Straße ß", "façade naïve coöperate résumé",
            "Привет, как дела? Съешь ещё этих мягких французских булок", "Γειά σου Κόσμε, καλημέρα",
            "مرحبا بالعالم، كيف حالك؟", "שלום עולם, מה שלומך?", "नमस्ते दुनिया, आप कैसे हैं?", "বাংলা ভাষা",
            "தமிழ் மொழி", "สวัสดีชาวโลก ภาษาไทย", "你好，世界！今天天气很好。", "こんにちは世界、カタカナとひらがな",
            "안녕하세요 세계, 한국어", "ქართული ენა", "Հայերեն լեզու", "አማርኛ ቋንቋ", "ᚠᛇᚻ᛫ᛒᛦᚦ", "Tiếng Việt có dấu",
            "ⓐⓑⓒ ℌℑℜ ℵ ∀x∃y", "𝐀𝐁𝐂 𝟎𝟏𝟐 𝔸𝔹", "ǅ ǈ ǋ titlecase", "ﬁﬂ ligatures", "ＦＵＬＬ　ｗｉｄｔｈ　１２３");

    static final List<String> EMOJI_AND_MARKS = List.of(
            "🦙", "🦙🦙🦙", "😀 😃 😄", "👍🏽👍🏿", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇩🇪🇯🇵🇺🇸", "❤️‍🔥", "1️⃣ #️⃣",
            "e\u0301 a\u0308 o\u0303 n\u0303", "Z\u0351\u0352\u0353a\u0354\u0355l\u0356g\u0357o", "\u0915\u094d\u0937",
            "\u200b\u200c\u200d\u2060\ufeff", "\u00ad soft hyphen", "\u0007\u0008\u001b[31mred\u001b[0m",
            "\ue000\uf8ff private use", "\u0897\u1c89\ua7cb\ud801\uddc0\u2427 newer than llama.cpp's tables");

    static final List<String> WHITESPACE = List.of(
            "", " ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r", "\r\n", "\r\n\r\n",
            " \n", "\n ", " \t \n \r\n  ", "\t\n\t\n", "a  b", "a\t\tb", "a \n b", "  leading", "trailing  ",
            "\u00a0", "a\u00a0b", "\u3000\u3000", "\u2003em\u2002en", "\u0085next line", "\u2028\u2029",
            "\u000b\u000c", "x \u00a0 y");

    static final List<String> NUMBERS = List.of(
            "0", "7", "42", "123", "1234", "12345", "123456", "1234567", "12345678901234567890",
            "3.14159265358979", "-273.15", "1,000,000", "1e-10", "0xDEADBEEF", "0b1010", "2024-11-23", "12:34:56",
            "v1.2.3", "٣٤٥", "١٢٣٤", "５６７８", "²³¹", "½¼¾", "Ⅻⅻ", "①②③", "x1y22z333w4444");

    static final List<String> CONTRACTIONS = List.of(
            "it's", "don't", "we're", "they've", "I'm", "you'll", "he'd", "IT'S", "DON'T", "WE'RE", "I'M", "YOU'LL",
            "'s 't 're 've 'm 'll 'd", "'S 'T 'RE 'VE 'M 'LL 'D", "rock 'n' roll", "''quoted''", "'", "''",
            "o'clock", "y'all'd've", "it’s curly", "l'été");

    static final List<String> PUNCTUATION = List.of(
            "!", "!!!", "?!?!", "...", "…", "—", "--", "---", "***", "###", "@@@", "$$$", "%%%", "^^^", "&&&",
            "(((", ")))", "[]{}<>", "\"\"\"", "``", "~~~", ",;:", "¿¡", "«»", "「」", "【】", "、。", "!?.,",
            " , . ! ?", " ' ", "a , b", "x ' y", "end .\n");

    static final List<String> SPECIAL = List.of(
            "<|endoftext|>", "<|im_start|>", "<|im_end|>", "[gMASK]<sop>", "<|system|>", "<|user|>",
            "<|assistant|>", "<|observation|>", "<think>", "</think>", "<tool_call>", "</tool_call>",
            "<|begin_of_box|>", "<|end_of_box|>", "[PAD151650]", "<|user|", "<|user||>", "<<|user|>>",
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "[gMASK]<sop><|user|>\nHi<|assistant|>",
            "<think>reasoning</think>answer", "<|endoftext|><|endoftext|>", " <|user|> ", "<|assistant|>\n");

    /** Byte sequences that are not valid UTF-8 (but stay within what llama.cpp converts without throwing). */
    static final List<byte[]> INVALID_UTF8 = List.of(
            new byte[] {(byte) 0x80}, new byte[] {'a', (byte) 0xBF, 'b'}, new byte[] {(byte) 0xC3},
            new byte[] {(byte) 0xE2, (byte) 0x82}, new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0xA6},
            new byte[] {(byte) 0xC0, (byte) 0x80, 'x'}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            new byte[] {(byte) 0xFF, (byte) 0xFE, ' ', 'z'}, new byte[] {'1', '2', (byte) 0xC3, '3', '4'},
            new byte[] {'<', '|', (byte) 0x80, 'u', 's', 'e', 'r', '|', '>'});

    private TokenizerCorpus() {
    }

    static List<byte[]> generate(long seed, int randomCount) {
        List<List<String>> groups = List.of(CODE, SCRIPTS, EMOJI_AND_MARKS, WHITESPACE, NUMBERS, CONTRACTIONS,
                PUNCTUATION, SPECIAL);
        Set<String> texts = new LinkedHashSet<>();
        groups.forEach(texts::addAll);
        List<byte[]> corpus = new ArrayList<>();
        texts.forEach(t -> corpus.add(t.getBytes(StandardCharsets.UTF_8)));
        corpus.addAll(INVALID_UTF8);

        Random random = new Random(seed);
        String[] separators = {"", " ", "  ", "\n", "\t", "\r\n", " \n", ". ", ", "};
        for (int i = 0; i < randomCount; i++) {
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            int pieces = 1 + random.nextInt(6);
            for (int p = 0; p < pieces; p++) {
                if (p > 0) {
                    text.writeBytes(separators[random.nextInt(separators.length)].getBytes(StandardCharsets.UTF_8));
                }
                int kind = random.nextInt(20);
                if (kind == 0) {
                    text.writeBytes(INVALID_UTF8.get(random.nextInt(INVALID_UTF8.size())));
                } else if (kind == 1) {
                    text.writeBytes(randomNumber(random).getBytes(StandardCharsets.UTF_8));
                } else if (kind == 2) {
                    text.writeBytes(randomCodepoints(random).getBytes(StandardCharsets.UTF_8));
                } else {
                    List<String> group = groups.get(random.nextInt(groups.size()));
                    text.writeBytes(group.get(random.nextInt(group.size())).getBytes(StandardCharsets.UTF_8));
                }
            }
            corpus.add(text.toByteArray());
        }
        return corpus;
    }

    private static String randomNumber(Random random) {
        StringBuilder digits = new StringBuilder();
        int length = 1 + random.nextInt(40);
        for (int i = 0; i < length; i++) {
            digits.append((char) ('0' + random.nextInt(10)));
        }
        return digits.toString();
    }

    /** A short run of codepoints from anywhere in the assigned planes (no lone surrogates). */
    private static String randomCodepoints(Random random) {
        StringBuilder text = new StringBuilder();
        int length = 1 + random.nextInt(8);
        for (int i = 0; i < length; i++) {
            int cpt;
            do {
                cpt = random.nextInt(4) == 0 ? random.nextInt(0x30000) : random.nextInt(0x3000);
            } while (cpt >= 0xD800 && cpt <= 0xDFFF);
            text.appendCodePoint(cpt);
        }
        return text.toString();
    }
}
