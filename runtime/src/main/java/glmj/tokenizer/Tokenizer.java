package glmj.tokenizer;

import glmj.gguf.GGUFFormatException;
import glmj.gguf.Metadata;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;
import java.util.stream.IntStream;

/**
 * The byte-level BPE tokenizer of a GGUF model ({@code tokenizer.ggml.model = gpt2}), producing exactly what
 * llama.cpp v0.5.0's {@code llama_tokenize} / {@code llama_token_to_piece} / {@code llama_detokenize} produce for the
 * same file. Supported pre-tokenizers: {@code glm4} (GLM-4/GLM-5), the {@code qwen2} family and the Llama 3 family.
 *
 * <p>Encoding: special tokens are cut out of the text first (control ones only when {@code parseSpecial}; user-defined
 * ones always, as llama.cpp does), every remaining piece is split into words by the pre-tokenizer, and each word is
 * merged by BPE. Instances are immutable and thread-safe.
 */
public final class Tokenizer {
    /** llama.cpp's LLAMA_TOKEN_NULL: "no such token". */
    public static final int NO_TOKEN = -1;

    // llama_token_attr bits
    private static final int ATTR_UNKNOWN = 1;
    private static final int ATTR_NORMAL = 1 << 2;
    private static final int ATTR_CONTROL = 1 << 3;
    private static final int ATTR_USER_DEFINED = 1 << 4;
    private static final int ATTR_BYTE = 1 << 5;
    private static final int ATTRS_RENDERED_ONLY_IF_SPECIAL = ATTR_UNKNOWN | ATTR_CONTROL;

    private static final String KEY_PREFIX = "tokenizer.ggml.";

    /** Token texts llama-vocab.cpp treats as end of generation whatever the metadata says. */
    private static final List<String> END_OF_GENERATION_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<｜end▁of▁sentence｜>", "[e~[");

    private final String[] texts;
    private final byte[][] textBytes;
    private final int[] attributes;
    /** Each token's piece as llama_token_to_piece(special = true) gives it. */
    private final byte[][] pieces;
    /** Token text to id; for a text held by several tokens the last one, as in llama.cpp's token_to_id. */
    private final Map<String, Integer> textToToken;
    private final PreTokenizer preTokenizer;
    private final BpeMerger merger;
    /** Tokens cut out of the text before BPE, in the order llama.cpp tries them (longest text first). */
    private final int[] specialTokens;
    private final BitSet endOfGeneration = new BitSet();
    private final SpecialIds ids;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;

    /** The ids of llama.cpp's named special tokens, {@link #NO_TOKEN} where absent. */
    private static final class SpecialIds {
        int bos;
        int eos;
        int eot = NO_TOKEN;
        int eom = NO_TOKEN;
        int unk = NO_TOKEN;
        int sep = NO_TOKEN;
        int pad = NO_TOKEN;
        int mask = NO_TOKEN;
        int fimPre = NO_TOKEN;
        int fimSuf = NO_TOKEN;
        int fimMid = NO_TOKEN;
        int fimPad = NO_TOKEN;
        int fimRep = NO_TOKEN;
        int fimSep = NO_TOKEN;
    }

    /** How llama-vocab.cpp configures a pre-tokenizer name. */
    private record PreTokenizerConfig(PreTokenizer splitter, boolean cleanSpaces, boolean ignoreMerges,
                                      boolean addBos, boolean hasDefaultBos) {
    }

    private static final Map<String, PreTokenizerConfig> PRE_TOKENIZERS = preTokenizers();

    private static Map<String, PreTokenizerConfig> preTokenizers() {
        Map<String, PreTokenizerConfig> map = new HashMap<>();
        PreTokenizerConfig glm4 = new PreTokenizerConfig(PreTokenizer.DIGITS_BY_THREE, true, false, false, false);
        for (String name : List.of("glm4", "chatglm-bpe")) {
            map.put(name, glm4);
        }
        PreTokenizerConfig qwen2 = new PreTokenizerConfig(PreTokenizer.DIGITS_BY_ONE, false, false, false, true);
        for (String name : List.of("qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2")) {
            map.put(name, qwen2);
        }
        map.put("megrez", new PreTokenizerConfig(PreTokenizer.DIGITS_BY_ONE, true, false, false, true));
        PreTokenizerConfig llama3 = new PreTokenizerConfig(PreTokenizer.DIGITS_BY_THREE, true, true, true, true);
        for (String name : List.of("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                "lfm2", "jina-v5-nano")) {
            map.put(name, llama3);
        }
        return Map.copyOf(map);
    }

    private Tokenizer(Metadata metadata) {
        String model = metadata.getString(KEY_PREFIX + "model");
        if (!model.equals("gpt2")) {
            throw new GGUFFormatException(metadata.file(), "tokenizer.ggml.model is '" + model
                    + "', only byte-level BPE ('gpt2') is supported");
        }
        String preName = metadata.getString(KEY_PREFIX + "pre", "");
        PreTokenizerConfig pre = PRE_TOKENIZERS.get(preName);
        if (pre == null) {
            throw new GGUFFormatException(metadata.file(), "tokenizer.ggml.pre is '" + preName
                    + "', supported are " + PRE_TOKENIZERS.keySet().stream().sorted().toList());
        }
        preTokenizer = pre.splitter();
        cleanSpaces = pre.cleanSpaces();

        texts = metadata.getStringArray(KEY_PREFIX + "tokens");
        int n = texts.length;
        int[] types = metadata.has(KEY_PREFIX + "token_type") ? metadata.getIntArray(KEY_PREFIX + "token_type") : null;
        if (types != null && types.length < n) {
            throw new GGUFFormatException(metadata.file(), "tokenizer.ggml.token_type has " + types.length
                    + " entries for " + n + " tokens");
        }
        attributes = new int[n];
        textBytes = new byte[n][];
        textToToken = new HashMap<>(n * 2);
        for (int id = 0; id < n; id++) {
            if (texts[id].isEmpty()) {
                texts[id] = "[EMPTY_" + id + "]";
            }
            textBytes[id] = texts[id].getBytes(StandardCharsets.UTF_8);
            textToToken.put(texts[id], id);
            attributes[id] = types == null ? ATTR_NORMAL : attributeOfType(types[id]);
        }

        ids = new SpecialIds();
        ids.bos = pre.hasDefaultBos() ? 11 : NO_TOKEN;
        ids.eos = 11;
        readSpecialIds(metadata, n);
        addBos = metadata.getBoolean(KEY_PREFIX + "add_bos_token", pre.addBos());
        addEos = metadata.getBoolean(KEY_PREFIX + "add_eos_token", false);
        addSpacePrefix = metadata.getBoolean(KEY_PREFIX + "add_space_prefix", false);

        detectSpecialTokensByText();
        collectEndOfGeneration();

        specialTokens = IntStream.range(0, n)
                .filter(id -> (attributes[id] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0)
                .boxed()
                .sorted(Comparator.comparingInt((Integer id) -> -textBytes[id].length))
                .mapToInt(Integer::intValue)
                .toArray();
        pieces = new byte[n][];
        for (int id = 0; id < n; id++) {
            pieces[id] = renderPiece(id);
        }
        String[] merges = metadata.getStringArray(KEY_PREFIX + "merges");
        merger = new BpeMerger(n, textToToken, merges, pre.ignoreMerges());
    }

    /**
     * The tokenizer described by a GGUF file's metadata.
     *
     * @throws GGUFFormatException if a tokenizer key is missing or malformed, or names an unsupported tokenizer
     */
    public static Tokenizer fromGGUF(Metadata metadata) {
        return new Tokenizer(metadata);
    }

    private static int attributeOfType(int tokenType) {
        return switch (tokenType) {
            case 1 -> ATTR_NORMAL;
            case 2 -> ATTR_UNKNOWN;
            case 3 -> ATTR_CONTROL;
            case 4 -> ATTR_USER_DEFINED;
            case 5 -> 1 << 1; // unused
            case 6 -> ATTR_BYTE;
            default -> 0; // undefined
        };
    }

    /** Metadata ids replace the defaults when in range, in llama-vocab.cpp's order (deprecated FIM keys last). */
    private void readSpecialIds(Metadata metadata, int n) {
        record Key(String name, IntSupplier get, IntConsumer set) {
        }
        List<Key> keys = List.of(
                new Key("bos_token_id", () -> ids.bos, v -> ids.bos = v),
                new Key("eos_token_id", () -> ids.eos, v -> ids.eos = v),
                new Key("eot_token_id", () -> ids.eot, v -> ids.eot = v),
                new Key("eom_token_id", () -> ids.eom, v -> ids.eom = v),
                new Key("unknown_token_id", () -> ids.unk, v -> ids.unk = v),
                new Key("seperator_token_id", () -> ids.sep, v -> ids.sep = v),
                new Key("padding_token_id", () -> ids.pad, v -> ids.pad = v),
                new Key("mask_token_id", () -> ids.mask, v -> ids.mask = v),
                new Key("fim_pre_token_id", () -> ids.fimPre, v -> ids.fimPre = v),
                new Key("fim_suf_token_id", () -> ids.fimSuf, v -> ids.fimSuf = v),
                new Key("fim_mid_token_id", () -> ids.fimMid, v -> ids.fimMid = v),
                new Key("fim_pad_token_id", () -> ids.fimPad, v -> ids.fimPad = v),
                new Key("fim_rep_token_id", () -> ids.fimRep, v -> ids.fimRep = v),
                new Key("fim_sep_token_id", () -> ids.fimSep, v -> ids.fimSep = v),
                new Key("prefix_token_id", () -> ids.fimPre, v -> ids.fimPre = v),
                new Key("suffix_token_id", () -> ids.fimSuf, v -> ids.fimSuf = v),
                new Key("middle_token_id", () -> ids.fimMid, v -> ids.fimMid = v));
        for (Key key : keys) {
            if (key.get().getAsInt() >= n) {
                key.set().accept(NO_TOKEN);
            }
            String name = KEY_PREFIX + key.name();
            if (metadata.has(name)) {
                long value = metadata.getLong(name);
                if (value >= 0 && value < n) {
                    key.set().accept((int) value);
                }
            }
        }
    }

    /**
     * llama-vocab.cpp's fallback that finds EOT, EOM and FIM tokens by their text when the metadata has no id, and
     * marks them as control tokens. llama.cpp walks a hash map, so when several texts for one role are present its
     * choice depends on hashing; here the lowest id wins.
     */
    private void detectSpecialTokensByText() {
        ids.eot = findByText(ids.eot, "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
                "<end_of_utterance>");
        ids.eom = findByText(ids.eom, "<|eom_id|>");
        ids.fimPre = findByText(ids.fimPre, "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>");
        ids.fimSuf = findByText(ids.fimSuf, "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>");
        ids.fimMid = findByText(ids.fimMid, "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>");
        ids.fimPad = findByText(ids.fimPad, "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
        ids.fimRep = findByText(ids.fimRep, "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                "<reponame>");
        ids.fimSep = findByText(ids.fimSep, "<|file_sep|>");
    }

    private int findByText(int current, String... candidates) {
        if (current != NO_TOKEN) {
            return current;
        }
        int found = Arrays.stream(candidates)
                .map(textToToken::get)
                .filter(id -> id != null)
                .mapToInt(Integer::intValue)
                .min()
                .orElse(NO_TOKEN);
        if (found != NO_TOKEN) {
            attributes[found] |= ATTR_CONTROL;
        }
        return found;
    }

    private void collectEndOfGeneration() {
        for (int id : new int[] {ids.fimPad, ids.fimRep, ids.fimSep}) {
            if (id != NO_TOKEN) {
                endOfGeneration.set(id);
            }
        }
        for (String text : END_OF_GENERATION_TEXTS) {
            Integer id = textToToken.get(text);
            if (id != null) {
                endOfGeneration.set(id);
                attributes[id] |= ATTR_CONTROL;
            }
        }
        // llama.cpp always renders these gpt-oss tokens
        for (String text : List.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>")) {
            Integer id = textToToken.get(text);
            if (id != null) {
                attributes[id] = ATTR_USER_DEFINED;
            }
        }
        for (int id : new int[] {ids.eos, ids.eot, ids.eom}) {
            if (id != NO_TOKEN) {
                endOfGeneration.set(id);
            }
        }
        // harmony and solar-open end turns with <|end|> but keep generating after it
        boolean hasReturn = hasEndOfGenerationText("<|return|>");
        boolean hasCall = hasEndOfGenerationText("<|call|>") || hasEndOfGenerationText("<|calls|>");
        boolean hasFlush = hasEndOfGenerationText("<|flush|>");
        int end = endOfGenerationWithText("<|end|>");
        if (end != NO_TOKEN && hasCall && (hasReturn || hasFlush)) {
            endOfGeneration.clear(end);
            attributes[end] = ATTR_USER_DEFINED;
        }
        // gemma4 and paddleocr: </s> is no end of generation when <|tool_response> is
        int closing = endOfGenerationWithText("</s>");
        if (closing != NO_TOKEN && hasEndOfGenerationText("<|tool_response>")) {
            endOfGeneration.clear(closing);
            attributes[closing] = ATTR_NORMAL;
        }
    }

    private boolean hasEndOfGenerationText(String text) {
        return endOfGenerationWithText(text) != NO_TOKEN;
    }

    private int endOfGenerationWithText(String text) {
        for (int id = endOfGeneration.nextSetBit(0); id >= 0; id = endOfGeneration.nextSetBit(id + 1)) {
            if (texts[id].equals(text)) {
                return id;
            }
        }
        return NO_TOKEN;
    }

    /** llama_token_to_piece(special = true) for a byte-level BPE vocabulary. */
    private byte[] renderPiece(int id) {
        int attr = attributes[id];
        if ((attr & (ATTRS_RENDERED_ONLY_IF_SPECIAL | ATTR_USER_DEFINED)) != 0) {
            return textBytes[id];
        }
        if ((attr & ATTR_NORMAL) != 0) {
            return byteLevelDecode(texts[id], textBytes[id]);
        }
        if ((attr & ATTR_BYTE) != 0) {
            return new byte[] {(byte) hexByte(texts[id])};
        }
        return new byte[0];
    }

    /** Maps each codepoint of a byte-level token text back to its byte; llama.cpp's llama_decode_text. */
    private static byte[] byteLevelDecode(String text, byte[] utf8) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(utf8.length);
        byte[] one = new byte[4];
        for (int cpt : Utf8.decode(utf8, 0, utf8.length)) {
            int b = ByteLevel.decode(cpt);
            if (b >= 0) {
                out.write(b);
            } else {
                out.writeBytes("[UNK_BYTE_0x".getBytes(StandardCharsets.US_ASCII));
                int len = Utf8.encode(cpt, one, 0);
                for (int i = 0; i < len; i++) {
                    out.writeBytes(String.format("%02x", one[i] & 0xFF).getBytes(StandardCharsets.US_ASCII));
                }
                out.writeBytes(utf8);
                out.write(']');
            }
        }
        return out.toByteArray();
    }

    /** The byte of a "<0xXX>" token, read like llama.cpp's strtol of characters 3 and 4. */
    private static int hexByte(String text) {
        int value = 0;
        for (int i = 3; i < Math.min(5, text.length()); i++) {
            int digit = Character.digit(text.charAt(i), 16);
            if (digit < 0) {
                break;
            }
            value = value * 16 + digit;
        }
        return value;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Encoding

    /**
     * Tokenizes text like {@code llama_tokenize} on its UTF-8 (an unpaired surrogate becomes '?', as in
     * {@link String#getBytes}).
     *
     * @param addSpecial   add BOS/EOS where the model asks for them (tokenizer.ggml.add_bos_token / add_eos_token)
     * @param parseSpecial recognize control tokens written in the text; without it they are ordinary text
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encode(text.getBytes(StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    /** {@link #encode(String, boolean, boolean)} without BOS/EOS. */
    public int[] encode(String text, boolean parseSpecial) {
        return encode(text, false, parseSpecial);
    }

    /**
     * Tokenizes UTF-8 bytes like {@code llama_tokenize}; invalid UTF-8 is read the way llama.cpp reads it (each
     * byte that starts no valid sequence is a U+FFFD).
     */
    public int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        TokenList out = new TokenList(utf8.length / 3 + 2);
        if (addSpecial && addBos) {
            out.add(require(ids.bos, "BOS"));
        }
        if (utf8.length > 0) {
            WordBuffer words = new WordBuffer();
            for (long fragment : partition(utf8, parseSpecial)) {
                if (fragment < 0) {
                    out.add((int) ~fragment);
                } else {
                    encodeText(utf8, (int) (fragment >>> 32), (int) fragment, words, out);
                }
            }
        }
        if (addSpecial && addEos) {
            out.add(require(ids.eos, "EOS"));
        }
        return out.toArray();
    }

    private static int require(int id, String role) {
        if (id == NO_TOKEN) {
            throw new IllegalStateException("the model asks for a " + role + " token but defines none");
        }
        return id;
    }

    /**
     * Cuts special tokens out of the text like llama.cpp's tokenizer_st_partition: each special token in turn (longest
     * first) splits every remaining text fragment at each of its leftmost non-overlapping occurrences. Fragments are
     * encoded as longs: {@code start << 32 | end} for text, {@code ~id} (negative) for a token.
     */
    private long[] partition(byte[] utf8, boolean parseSpecial) {
        long[] fragments = {(long) utf8.length};
        int count = 1;
        for (int id : specialTokens) {
            if (!parseSpecial && (attributes[id] & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0) {
                continue;
            }
            byte[] pattern = textBytes[id];
            long[] next = null;
            int nextCount = 0;
            for (int f = 0; f < count; f++) {
                long fragment = fragments[f];
                int start = (int) (fragment >>> 32);
                int end = (int) fragment;
                int match = fragment < 0 ? -1 : indexOf(utf8, pattern, start, end);
                if (match < 0) {
                    if (next != null) {
                        next = append(next, nextCount++, fragment);
                    }
                    continue;
                }
                if (next == null) {
                    next = Arrays.copyOf(fragments, Math.max(8, count * 2));
                    nextCount = f;
                }
                int pos = start;
                while (match >= 0) {
                    if (match > pos) {
                        next = append(next, nextCount++, (long) pos << 32 | match);
                    }
                    next = append(next, nextCount++, ~(long) id);
                    pos = match + pattern.length;
                    match = indexOf(utf8, pattern, pos, end);
                }
                if (pos < end) {
                    next = append(next, nextCount++, (long) pos << 32 | end);
                }
            }
            if (next != null) {
                fragments = next;
                count = nextCount;
            }
        }
        return Arrays.copyOf(fragments, count);
    }

    private static long[] append(long[] array, int index, long value) {
        long[] target = index < array.length ? array : Arrays.copyOf(array, array.length * 2);
        target[index] = value;
        return target;
    }

    private static int indexOf(byte[] text, byte[] pattern, int from, int to) {
        byte first = pattern[0];
        int last = to - pattern.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (text[i] != first) {
                continue;
            }
            for (int j = 1; j < pattern.length; j++) {
                if (text[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Reused buffers for the words of one call. */
    private static final class WordBuffer {
        byte[] utf8 = new byte[64];
    }

    private void encodeText(byte[] utf8, int start, int end, WordBuffer words, TokenList out) {
        int[] cpts = Utf8.decode(utf8, start, end);
        int[] wordStart = {0};
        preTokenizer.split(cpts, cpts.length, wordEnd -> {
            int needed = (wordEnd - wordStart[0]) * 4;
            if (words.utf8.length < needed) {
                words.utf8 = new byte[Math.max(needed, words.utf8.length * 2)];
            }
            int length = 0;
            for (int i = wordStart[0]; i < wordEnd; i++) {
                length = Utf8.encode(cpts[i], words.utf8, length);
            }
            merger.encodeWord(words.utf8, length, out);
            wordStart[0] = wordEnd;
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Decoding

    /**
     * The bytes of one token like {@code llama_token_to_piece} with lstrip 0: control and unknown tokens are empty
     * unless {@code special}.
     */
    public byte[] tokenPiece(int token, boolean special) {
        checkToken(token);
        if (!special && (attributes[token] & ATTRS_RENDERED_ONLY_IF_SPECIAL) != 0) {
            return new byte[0];
        }
        return pieces[token].clone();
    }

    /**
     * Detokenizes like {@code llama_detokenize}, including its clean-up of spaces before punctuation for
     * pre-tokenizers that ask for it (glm4 does).
     *
     * @param removeSpecial  drop a leading BOS / trailing EOS if the model adds them
     * @param unparseSpecial render control tokens as their text
     */
    public byte[] decodeBytes(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        int from = 0;
        int to = tokens.length;
        boolean removeSpace = addSpacePrefix;
        if (removeSpecial && addBos && to > from && tokens[from] == ids.bos) {
            removeSpace = false;
            from++;
        }
        if (removeSpecial && addEos && to > from && tokens[to - 1] == ids.eos) {
            to--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            int token = tokens[i];
            checkToken(token);
            if (unparseSpecial || (attributes[token] & ATTRS_RENDERED_ONLY_IF_SPECIAL) == 0) {
                byte[] piece = pieces[token];
                int skip = removeSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
                out.write(piece, skip, piece.length - skip);
            }
            removeSpace = false;
        }
        byte[] text = out.toByteArray();
        return cleanSpaces ? Arrays.copyOf(text, cleanUpSpaces(text)) : text;
    }

    /** {@link #decodeBytes} as a String (invalid UTF-8 becomes U+FFFD). */
    public String decode(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        return new String(decodeBytes(tokens, removeSpecial, unparseSpecial), StandardCharsets.UTF_8);
    }

    /** Detokenizes with control tokens rendered, as llama.cpp's common_detokenize does by default. */
    public String decode(int[] tokens) {
        return decode(tokens, false, true);
    }

    /**
     * llama_detokenize's three in-place passes (clean_up_tokenization_spaces): drop a space before ?!., ; drop the
     * spaces around a lone apostrophe; drop the space before 's 'm 're 've. Returns the new length.
     */
    private static int cleanUpSpaces(byte[] text) {
        int total1 = text.length;
        int total = total1 > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            text[total++] = x;
        }
        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++) {
            byte x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }
        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
                byte x1 = text[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
                    byte x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            text[total++] = x;
        }
        return total;
    }

    private void checkToken(int token) {
        if (token < 0 || token >= texts.length) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.." + (texts.length - 1) + ")");
        }
    }

    /** A decoder for streamed output; {@code special} renders control tokens as their text. */
    public StreamDecoder newStreamDecoder(boolean special) {
        return new StreamDecoder(this, special);
    }

    /**
     * Turns tokens, one at a time, into text. A token may end inside a multi-byte character (byte-level BPE splits
     * rare characters into several tokens); those bytes are held back until the character is complete, so a split
     * character never shows as U+FFFD. Bytes that can never become valid UTF-8 do become U+FFFD. Not thread-safe.
     */
    public static final class StreamDecoder {
        private final Tokenizer tokenizer;
        private final boolean special;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        private byte[] pending = new byte[16];
        private int pendingLength;

        private StreamDecoder(Tokenizer tokenizer, boolean special) {
            this.tokenizer = tokenizer;
            this.special = special;
        }

        /** The text this token completes; empty while a character is still incomplete. */
        public String append(int token) {
            byte[] piece = tokenizer.tokenPiece(token, special);
            if (pendingLength + piece.length > pending.length) {
                pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + piece.length));
            }
            System.arraycopy(piece, 0, pending, pendingLength, piece.length);
            pendingLength += piece.length;
            return take(completeLength(pending, pendingLength));
        }

        /** Everything still held back (an incomplete character at the very end becomes U+FFFD). */
        public String flush() {
            return take(pendingLength);
        }

        private String take(int length) {
            if (length == 0) {
                return "";
            }
            CharBuffer chars;
            try {
                chars = utf8.reset().decode(ByteBuffer.wrap(pending, 0, length));
            } catch (CharacterCodingException e) {
                throw new IllegalStateException("UTF-8 decoding with replacement failed", e);
            }
            System.arraycopy(pending, length, pending, 0, pendingLength - length);
            pendingLength -= length;
            return chars.toString();
        }

        /** The length of the prefix that does not end inside a character that may still be completed. */
        private static int completeLength(byte[] bytes, int length) {
            for (int back = 1; back <= Math.min(3, length); back++) {
                int lead = bytes[length - back] & 0xFF;
                if ((lead & 0xC0) == 0x80) {
                    continue; // continuation byte: look further back for its lead
                }
                int needed = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                        : lead >= 0xF0 && lead <= 0xF4 ? 4 : 1;
                return needed > back ? length - back : length;
            }
            return length;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Vocabulary

    public int vocabularySize() {
        return texts.length;
    }

    /** The token's text as stored in the vocabulary (byte-level spelling for normal tokens). */
    public String tokenText(int token) {
        checkToken(token);
        return texts[token];
    }

    /** Whether generation stops at this token (llama_vocab_is_eog). */
    public boolean isEndOfGeneration(int token) {
        return token >= 0 && endOfGeneration.get(token);
    }

    /** Whether the token is a control token (rendered only on request, split out only when parsing special). */
    public boolean isControl(int token) {
        checkToken(token);
        return (attributes[token] & ATTR_CONTROL) != 0;
    }

    public int bosToken() {
        return ids.bos;
    }

    public int eosToken() {
        return ids.eos;
    }

    public int eotToken() {
        return ids.eot;
    }

    public int eomToken() {
        return ids.eom;
    }

    /** Whether {@code encode(..., addSpecial = true, ...)} starts with BOS. */
    public boolean addsBos() {
        return addBos;
    }

    /** Whether {@code encode(..., addSpecial = true, ...)} ends with EOS. */
    public boolean addsEos() {
        return addEos;
    }

    /** The token whose vocabulary text is exactly {@code text}, or {@link #NO_TOKEN}. */
    public int tokenOf(String text) {
        return textToToken.getOrDefault(text, NO_TOKEN);
    }
}
