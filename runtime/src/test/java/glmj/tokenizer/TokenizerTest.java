package glmj.tokenizer;

import glmj.gguf.GGUFFormatException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {
    @TempDir
    static Path dir;

    static TestVocabulary.Builder vocab;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        vocab = TestVocabulary.builder();
        tokenizer = vocab.build(dir);
    }

    private static int id(String text) {
        return vocab.id(text);
    }

    private static int[] bytesOf(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        return IntStream.range(0, utf8.length).map(i -> utf8[i] & 0xFF).toArray();
    }

    static final List<String> ROUND_TRIP_SAMPLES = List.of(
            "", " ", "  ", "\t", "\n", "\r\n", " \n\n \t\r\n  x", "hello world", "Hello World",
            "héllo wörld — ça va", "Привет, мир", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
            "こんにちは世界", "你好，世界！", "안녕하세요 세계", "สวัสดีชาวโลก", "e\u0301e\u0300 a\u0308o\u0308 n\u0303",
            "🦙 llama 🦙🦙", "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag", "x²+y³=z⁴ ½ ¾ Ⅻ ٣٤ ５６",
            "1 12 123 1234 12345 123456 1234567 3.14159 -42 1e10 0x1F",
            "def f(x):\n    return x ** 2  # square\n", "for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}",
            "fn main() { println!(\"{}\", 42); }", "SELECT * FROM t WHERE a >= 10 AND b <> 'x';",
            "<html><body class=\"a\">text</body></html>", "#!/bin/bash\necho \"$HOME\" | tr a-z A-Z",
            "I'm sure they'll say it's what we've done, isn't it? You'd think so, I'd say", "!!!???...---***",
            "tab\there\u00a0nbsp\u3000ideographic", "trailing spaces   ", "   leading",
            "mixed \r\n\r\n\n line breaks \r");

    /** Texts whose decoding llama.cpp's space clean-up changes; pieces still concatenate to them. */
    static final List<String> CLEANED_UP_SAMPLES = List.of(
            "'s 't 're 've 'm 'll 'd 'S 'T 'RE", "!!! ??? ... --- ***", "a , b . c ! d ?", "x ' y");

    @Test
    void decodeOfEncodeIsTheText() {
        for (String sample : ROUND_TRIP_SAMPLES) {
            for (boolean parseSpecial : new boolean[] {false, true}) {
                int[] tokens = tokenizer.encode(sample, parseSpecial);
                assertEquals(sample, tokenizer.decode(tokens), () -> "sample " + sample);
            }
        }
    }

    @Test
    void streamingEveryTokenGivesBackTheText() {
        for (String sample : Stream.concat(ROUND_TRIP_SAMPLES.stream(), CLEANED_UP_SAMPLES.stream()).toList()) {
            Tokenizer.StreamDecoder stream = tokenizer.newStreamDecoder(true);
            StringBuilder text = new StringBuilder();
            for (int token : tokenizer.encode(sample, false)) {
                String part = stream.append(token);
                assertFalse(part.contains("\uFFFD"), () -> "replacement char streaming " + sample);
                text.append(part);
            }
            text.append(stream.flush());
            assertEquals(sample, text.toString());
        }
    }

    @Test
    void mergesFollowRankOrderAndLeftmostFirstOnTies() {
        // "hello": h+e (rank 0) and l+l (rank 1) first, then he+ll, then hell+o
        assertArrayEquals(new int[] {id("hello")}, tokenizer.encode("hello", false));
        // " world": Ġ+w (2), o+r (3), Ġw+or (4), l+d (5)
        assertArrayEquals(new int[] {id("Ġwor"), id("ld")}, tokenizer.encode(" world", false));
        // "aaa": the leftmost a+a merges first, the last a stays alone
        assertArrayEquals(new int[] {id("aa"), 'a'}, tokenizer.encode("aaa", false));
        assertArrayEquals(new int[] {id("aa"), id("aa")}, tokenizer.encode("aaaa", false));
        // a merge never crosses a pre-token boundary: "1234" splits as "123" + "4"
        assertArrayEquals(new int[] {id("123"), '4'}, tokenizer.encode("1234", false));
    }

    @Test
    void preTokenizerKeepsDigitsInRunsOfThreeAndSpacesBeforeWords() {
        // "12 3" exists as "123" only when the three digits are adjacent
        assertArrayEquals(new int[] {id("12"), ' ', '3'}, tokenizer.encode("12 3", false));
        int[] spaces = tokenizer.encode("        x", false);
        // \s+(?!\S) leaves the last space to the word: 7 spaces = ĠĠĠĠ + ĠĠ + Ġ, then " x"
        assertArrayEquals(new int[] {id("ĠĠĠĠ"), id("ĠĠ"), ' ', ' ', 'x'}, spaces);
    }

    @Test
    void controlTokensAreSplitOutOnlyWhenParsingSpecial() {
        String text = "[gMASK]<sop><|user|>\nhello<|assistant|>";
        int[] parsed = tokenizer.encode(text, true);
        int[] expected = {id("[gMASK]"), id("<sop>"), id("<|user|>"), '\n', id("hello"), id("<|assistant|>")};
        assertArrayEquals(expected, parsed);

        int[] plain = tokenizer.encode(text, false);
        for (String control : TestVocabulary.CONTROL_TOKENS) {
            assertTrue(Arrays.stream(plain).noneMatch(t -> t == id(control)), control);
        }
        assertEquals(text, tokenizer.decode(plain));
        // rendered without specials, control tokens disappear
        assertEquals("\nhello", tokenizer.decode(parsed, false, false));
        assertEquals(text, tokenizer.decode(parsed, false, true));
    }

    @Test
    void userDefinedTokensAreSplitOutEvenWithoutParsingSpecial() {
        int[] tokens = tokenizer.encode("a<think>b</think>c", false);
        assertArrayEquals(new int[] {'a', id("<think>"), 'b', id("</think>"), 'c'}, tokens);
        // and are rendered even without specials
        assertEquals("a<think>b</think>c", tokenizer.decode(tokens, false, false));
    }

    @Test
    void longerSpecialTokensWinOverTheirPrefixes() {
        int[] tokens = tokenizer.encode("x<|begin_of_box|><|end_of_box|>y<|begin_of_box|>", true);
        assertArrayEquals(new int[] {'x', id("<|begin_of_box|><|end_of_box|>"), 'y', id("<|begin_of_box|>")}, tokens);
    }

    @Test
    void specialTokenAtEveryPosition() {
        for (String text : List.of("<|user|>", "<|user|>x", "x<|user|>", "<|user|><|user|>", "a<|user|>b<|user|>c")) {
            int[] tokens = tokenizer.encode(text, true);
            assertEquals(text.split("<\\|user\\|>", -1).length - 1,
                    Arrays.stream(tokens).filter(t -> t == id("<|user|>")).count(), text);
            assertEquals(text, tokenizer.decode(tokens));
        }
    }

    @Test
    void addSpecialAddsBosWhenTheModelAsksForIt() {
        assertEquals(id("[gMASK]"), tokenizer.bosToken());
        assertTrue(tokenizer.addsBos());
        assertArrayEquals(new int[] {id("[gMASK]"), id("hello")}, tokenizer.encode("hello", true, false));
        assertArrayEquals(new int[] {id("[gMASK]")}, tokenizer.encode("", true, false));
        assertArrayEquals(new int[0], tokenizer.encode("", false, false));
        // removeSpecial drops that BOS again when decoding
        assertEquals("hello", tokenizer.decode(tokenizer.encode("hello", true, false), true, true));
        assertEquals("[gMASK]hello", tokenizer.decode(tokenizer.encode("hello", true, false), false, true));
    }

    @Test
    void withoutAddBosTokenKeyGlm4HasNoBosToAdd(@TempDir Path tmp) {
        Tokenizer noFlag = TestVocabulary.builder()
                .remove("tokenizer.ggml.add_bos_token")
                .remove("tokenizer.ggml.bos_token_id")
                .build(tmp);
        assertEquals(Tokenizer.NO_TOKEN, noFlag.bosToken());
        assertFalse(noFlag.addsBos());
        assertArrayEquals(noFlag.encode("hello", false, false), noFlag.encode("hello", true, false));
    }

    @Test
    void endOfGenerationIsEosEotEomAndTheKnownEndTexts() {
        assertTrue(tokenizer.isEndOfGeneration(id("<|endoftext|>")));
        assertTrue(tokenizer.isEndOfGeneration(id("<|user|>")));
        assertTrue(tokenizer.isEndOfGeneration(id("<|observation|>")));
        for (String notEnd : List.of("<|assistant|>", "<|system|>", "[gMASK]", "<sop>", "<think>", "hello")) {
            assertFalse(tokenizer.isEndOfGeneration(id(notEnd)), notEnd);
        }
        assertFalse(tokenizer.isEndOfGeneration(Tokenizer.NO_TOKEN));
        assertEquals(id("<|user|>"), tokenizer.eotToken());
        assertEquals(id("<|observation|>"), tokenizer.eomToken());
    }

    @Test
    void streamDecoderHoldsBackASplitEmoji() {
        int[] llama = bytesOf("🦙");
        assertEquals(4, llama.length);
        Tokenizer.StreamDecoder stream = tokenizer.newStreamDecoder(false);
        assertEquals("a", stream.append('a'));
        assertEquals("", stream.append(llama[0]));
        assertEquals("", stream.append(llama[1]));
        assertEquals("", stream.append(llama[2]));
        assertEquals("🦙", stream.append(llama[3]));
        assertEquals("b", stream.append('b'));
        assertEquals("", stream.flush());
    }

    @Test
    void aFourByteSequenceBeyondU10FFFFIsReplacementCharacters() {
        // F6 96 A6 99 would be U+19D999: its first byte starts no valid sequence, and neither do the three after it
        byte[] beyond = {(byte) 0xF6, (byte) 0x96, (byte) 0xA6, (byte) 0x99};
        assertEquals("\uFFFD".repeat(4), tokenizer.decode(tokenizer.encode(beyond, false, false)));
    }

    @Test
    void streamDecoderReplacesBytesThatCanNeverBeValid() {
        Tokenizer.StreamDecoder stream = tokenizer.newStreamDecoder(false);
        // a lone continuation byte is invalid at once; an unfinished character only when flushed
        assertEquals("x\uFFFD", stream.append('x') + stream.append(0x80));
        int[] euro = bytesOf("€");
        assertEquals("", stream.append(euro[0]));
        assertEquals("\uFFFD", stream.flush());
        // a lead byte followed by a non-continuation is invalid, and what follows survives
        assertEquals("", stream.append(euro[0]));
        assertEquals("\uFFFDy", stream.append('y'));
    }

    @Test
    void streamDecoderSkipsControlTokensUnlessSpecial() {
        Tokenizer.StreamDecoder plain = tokenizer.newStreamDecoder(false);
        Tokenizer.StreamDecoder special = tokenizer.newStreamDecoder(true);
        assertEquals("", plain.append(id("<|assistant|>")));
        assertEquals("<|assistant|>", special.append(id("<|assistant|>")));
    }

    @Test
    void decodeCleansSpacesBeforePunctuationLikeLlamaCpp() {
        // glm4 keeps llama.cpp's clean_spaces: " ," and " ." lose their space, " 's" too, " 't" keeps it
        assertEquals("Hello, world. It's don 't", tokenizer.decode(tokenizer.encode("Hello , world . It 's don 't", false)));
        assertEquals("a'b", tokenizer.decode(tokenizer.encode("a ' b", false)));
    }

    @Test
    void invalidUtf8BytesEncodeAsReplacementCharacters() {
        byte[] invalid = {'a', (byte) 0xFF, 'b'};
        int[] tokens = tokenizer.encode(invalid, false, false);
        assertEquals("a\uFFFDb", tokenizer.decode(tokens));
    }

    @Test
    void tokenPieceAndTextAccessors() {
        assertEquals(256 + TestVocabulary.MERGES.size() + TestVocabulary.CONTROL_TOKENS.size()
                + TestVocabulary.USER_DEFINED_TOKENS.size(), tokenizer.vocabularySize());
        assertEquals("Ġwor", tokenizer.tokenText(id("Ġwor")));
        assertArrayEquals(" wor".getBytes(StandardCharsets.UTF_8), tokenizer.tokenPiece(id("Ġwor"), false));
        assertArrayEquals(new byte[0], tokenizer.tokenPiece(id("<|user|>"), false));
        assertArrayEquals("<|user|>".getBytes(StandardCharsets.UTF_8), tokenizer.tokenPiece(id("<|user|>"), true));
        assertEquals(id("<sop>"), tokenizer.tokenOf("<sop>"));
        assertEquals(Tokenizer.NO_TOKEN, tokenizer.tokenOf("no such token"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tokenizer.decode(new int[] {tokenizer.vocabularySize()}));
        assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
    }

    @Test
    void unsupportedTokenizersAreRefusedWithTheKeyInTheMessage(@TempDir Path tmp) {
        GGUFFormatException pre = assertThrows(GGUFFormatException.class,
                () -> TestVocabulary.builder().put("tokenizer.ggml.pre", "gpt-4o").build(tmp));
        assertTrue(pre.getMessage().contains("tokenizer.ggml.pre is 'gpt-4o'"), pre.getMessage());
        GGUFFormatException model = assertThrows(GGUFFormatException.class,
                () -> TestVocabulary.builder().put("tokenizer.ggml.model", "llama").build(tmp));
        assertTrue(model.getMessage().contains("tokenizer.ggml.model is 'llama'"), model.getMessage());
    }
}
