package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The tokenize/detokenize bindings and the model-params layout, proven on llama.cpp's own fixtures: the qwen2
 * vocabulary and the expected tokenizations shipped beside it.
 */
class LlamaTokenizeTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    @Test
    void qwen2FixturesTokenizeAsShippedAndDetokenizeBack() throws Exception {
        Oracle.library();
        List<String> inputs = Arrays.asList(Files.readString(Oracle.source("models/ggml-vocab-qwen2.gguf.inp")).split(SEPARATOR, -1));
        List<String> expected = Files.readAllLines(Oracle.source("models/ggml-vocab-qwen2.gguf.out"));
        assertEquals(expected.size(), inputs.size() - 1, "one expected line per input");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = Llama.llama_model_default_params(arena);
            Llama.llama_model_params.vocab_only(params, true);
            MemorySegment path = arena.allocateFrom(Oracle.source("models/ggml-vocab-qwen2.gguf").toString());
            MemorySegment model = Llama.llama_model_load_from_file(path, params);
            assertFalse(model.equals(MemorySegment.NULL), "llama.cpp did not load the qwen2 vocabulary");
            try {
                MemorySegment vocab = Llama.llama_model_get_vocab(model);
                assertEquals(151_936, Llama.llama_vocab_n_tokens(vocab));
                for (int i = 0; i < expected.size(); i++) {
                    int[] wanted = expected.get(i).isBlank() ? new int[0]
                            : Arrays.stream(expected.get(i).trim().split(" ")).mapToInt(Integer::parseInt).toArray();
                    int[] tokens = tokenize(arena, vocab, inputs.get(i));
                    assertArrayEquals(wanted, tokens, "input " + i + ": " + inputs.get(i));
                    assertEquals(inputs.get(i), detokenize(arena, vocab, tokens), "input " + i);
                }
            } finally {
                Llama.llama_model_free(model);
            }
        }
    }

    private static int[] tokenize(Arena arena, MemorySegment vocab, String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        MemorySegment bytes = arena.allocate(utf8.length + 1L);
        MemorySegment.copy(utf8, 0, bytes, JAVA_BYTE, 0, utf8.length);
        MemorySegment tokens = arena.allocate(JAVA_INT, utf8.length + 8L);
        int count = Llama.llama_tokenize(vocab, bytes, utf8.length, tokens, utf8.length + 8, false, false);
        assertTrue(count >= 0, "llama_tokenize returned " + count);
        return tokens.asSlice(0, count * 4L).toArray(JAVA_INT);
    }

    private static String detokenize(Arena arena, MemorySegment vocab, int[] tokens) {
        MemorySegment ids = arena.allocateFrom(JAVA_INT, tokens);
        int capacity = tokens.length * 64 + 16;
        MemorySegment text = arena.allocate(capacity);
        int length = Llama.llama_detokenize(vocab, ids, tokens.length, text, capacity, false, false);
        assertTrue(length >= 0, "llama_detokenize returned " + length);
        return new String(text.asSlice(0, length).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
