package glmj.tokenizer;

import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A small GLM-style byte-level BPE vocabulary written as a GGUF: the 256 byte tokens (id = byte value), one token per
 * merge, then GLM's special tokens. Built by a fluent {@link Builder} so tests can vary single keys.
 */
final class TestVocabulary {
    static final int TYPE_NORMAL = 1;
    static final int TYPE_CONTROL = 3;
    static final int TYPE_USER_DEFINED = 4;

    /** Merges in rank order; each result is a token. Chosen to exercise ranks, chains and ties. */
    static final List<String> MERGES = List.of(
            "h e", "l l", "Ġ w", "o r", "Ġw or", "l d", "he ll", "hell o", "a a", "1 2", "12 3", "Ġ t", "Ġt he",
            "i n", "in g", "Ġ Ġ", "ĠĠ ĠĠ", "Ċ Ċ");

    static final List<String> CONTROL_TOKENS = List.of(
            "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>",
            "<|assistant|>", "<|observation|>", "<|begin_of_box|>", "<|begin_of_box|><|end_of_box|>");

    static final List<String> USER_DEFINED_TOKENS = List.of("<think>", "</think>", "<tool_call>", "</tool_call>");

    private TestVocabulary() {
    }

    static Builder builder() {
        return new Builder();
    }

    static final class Builder {
        private final List<String> tokens = new ArrayList<>();
        private final List<Integer> types = new ArrayList<>();
        private final GGUFWriter writer = new GGUFWriter();

        Builder() {
            for (int b = 0; b < 256; b++) {
                add(String.valueOf(ByteLevel.encode(b)), TYPE_NORMAL);
            }
            for (String merge : MERGES) {
                add(merge.replace(" ", ""), TYPE_NORMAL);
            }
            CONTROL_TOKENS.forEach(t -> add(t, TYPE_CONTROL));
            USER_DEFINED_TOKENS.forEach(t -> add(t, TYPE_USER_DEFINED));
            writer.putString("general.architecture", "glm-dsa")
                    .putString("tokenizer.ggml.model", "gpt2")
                    .putString("tokenizer.ggml.pre", "glm4")
                    .putArray("tokenizer.ggml.merges", GGUFValueType.STRING, MERGES.toArray(String[]::new))
                    .putUInt32("tokenizer.ggml.bos_token_id", id("[gMASK]"))
                    .putUInt32("tokenizer.ggml.eos_token_id", id("<|endoftext|>"))
                    .putUInt32("tokenizer.ggml.eot_token_id", id("<|user|>"))
                    .putUInt32("tokenizer.ggml.eom_token_id", id("<|observation|>"))
                    .putBool("tokenizer.ggml.add_bos_token", true);
        }

        private void add(String text, int type) {
            tokens.add(text);
            types.add(type);
        }

        int id(String text) {
            int id = tokens.lastIndexOf(text);
            if (id < 0) {
                throw new IllegalArgumentException("no token " + text);
            }
            return id;
        }

        Builder put(String key, String value) {
            writer.putString(key, value);
            return this;
        }

        Builder putBool(String key, boolean value) {
            writer.putBool(key, value);
            return this;
        }

        Builder remove(String key) {
            writer.remove(key);
            return this;
        }

        Tokenizer build(Path dir) {
            writer.putArray("tokenizer.ggml.tokens", GGUFValueType.STRING, tokens.toArray(String[]::new));
            writer.putArray("tokenizer.ggml.token_type", GGUFValueType.INT32,
                    types.stream().mapToInt(Integer::intValue).toArray());
            Path file = dir.resolve("vocab-" + System.nanoTime() + ".gguf");
            try {
                writer.write(file);
                try (GGUFFile gguf = GGUFFile.open(file)) {
                    return Tokenizer.fromGGUF(gguf.metadata());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
