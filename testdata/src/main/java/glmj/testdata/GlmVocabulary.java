package glmj.testdata;

import glmj.gguf.GGUFFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * GLM-5's tokenizer at test scale: the byte-level BPE tokens and merges of llama.cpp's Qwen2 vocabulary (GLM's own
 * vocabulary is built the same way, with the same pre-tokenizer split), followed by GLM-5's added tokens, all CONTROL,
 * in GLM's order. Which added token plays which role follows llama.cpp's GLM conversion: BOS {@code [gMASK]},
 * EOS and UNK {@code <|endoftext|>}, EOT {@code <|user|>}, EOM {@code <|observation|>}.
 */
final class GlmVocabulary {
    /** Classpath location of llama.cpp's {@code models/ggml-vocab-qwen2.gguf}. */
    static final String QWEN2_VOCAB_RESOURCE = "glmj/testdata/ggml-vocab-qwen2.gguf";

    /** llama.cpp's {@code llama_token_type}: NORMAL, CONTROL and UNUSED. */
    static final int TOKEN_TYPE_NORMAL = 1;
    static final int TOKEN_TYPE_CONTROL = 3;
    static final int TOKEN_TYPE_UNUSED = 5;

    /** GLM-5's added tokens, in id order after the BPE tokens. */
    static final List<String> SPECIAL_TOKENS = List.of(
            "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
            "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>",
            "<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>",
            "<|begin_of_audio|>", "<|end_of_audio|>", "<|begin_of_transcription|>", "<|end_of_transcription|>",
            "<|code_prefix|>", "<|code_middle|>", "<|code_suffix|>",
            "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>",
            "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>", "/nothink",
            "<|begin_of_box|>", "<|end_of_box|>", "<|image|>", "<|video|>");

    final String[] tokens;
    final int[] tokenTypes;
    final String[] merges;
    /** Id of the first added token; every id below it is a BPE token. */
    final int firstSpecialId;

    private GlmVocabulary(String[] tokens, int[] tokenTypes, String[] merges, int firstSpecialId) {
        this.tokens = tokens;
        this.tokenTypes = tokenTypes;
        this.merges = merges;
        this.firstSpecialId = firstSpecialId;
    }

    /** Reads the BPE part from {@code qwen2Vocab}: its leading run of NORMAL tokens, and all its merges. */
    static GlmVocabulary load(Path qwen2Vocab) throws IOException {
        String[] sourceTokens;
        int[] sourceTypes;
        String[] merges;
        try (GGUFFile file = GGUFFile.open(qwen2Vocab)) {
            sourceTokens = file.metadata().getStringArray("tokenizer.ggml.tokens");
            sourceTypes = file.metadata().getIntArray("tokenizer.ggml.token_type");
            merges = file.metadata().getStringArray("tokenizer.ggml.merges");
        }
        if (sourceTypes.length != sourceTokens.length) {
            throw new IOException(qwen2Vocab + ": " + sourceTokens.length + " tokens but " + sourceTypes.length + " token types");
        }
        int bpeCount = 0;
        while (bpeCount < sourceTypes.length && sourceTypes[bpeCount] == TOKEN_TYPE_NORMAL) {
            bpeCount++;
        }
        if (bpeCount == 0 || merges.length == 0) {
            throw new IOException(qwen2Vocab + ": no BPE tokens or merges");
        }
        String[] tokens = Arrays.copyOf(sourceTokens, bpeCount + SPECIAL_TOKENS.size());
        int[] types = new int[tokens.length];
        Arrays.fill(types, 0, bpeCount, TOKEN_TYPE_NORMAL);
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            tokens[bpeCount + i] = SPECIAL_TOKENS.get(i);
            types[bpeCount + i] = TOKEN_TYPE_CONTROL;
        }
        return new GlmVocabulary(tokens, types, merges, bpeCount);
    }

    int size() {
        return tokens.length;
    }

    /**
     * This vocabulary followed by unused tokens {@code [PAD<id>]} up to {@code size} tokens, as llama.cpp's converter
     * pads a model whose embedding has more rows than its tokenizer has tokens (GLM-5: 154,880).
     */
    GlmVocabulary padded(int size) {
        if (size < tokens.length) {
            throw new IllegalArgumentException("cannot pad " + tokens.length + " tokens to " + size);
        }
        String[] paddedTokens = Arrays.copyOf(tokens, size);
        int[] paddedTypes = Arrays.copyOf(tokenTypes, size);
        for (int id = tokens.length; id < size; id++) {
            paddedTokens[id] = "[PAD" + id + "]";
            paddedTypes[id] = TOKEN_TYPE_UNUSED;
        }
        return new GlmVocabulary(paddedTokens, paddedTypes, merges, firstSpecialId);
    }

    /** The id of added token {@code text}. */
    int specialId(String text) {
        int index = SPECIAL_TOKENS.indexOf(text);
        if (index < 0) {
            throw new IllegalArgumentException("not a GLM-5 added token: " + text);
        }
        return firstSpecialId + index;
    }
}
