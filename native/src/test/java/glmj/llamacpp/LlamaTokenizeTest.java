package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tokenize/detokenize bindings and the model-params layout, proven on llama.cpp's own fixtures: the qwen2
 * vocabulary and the expected tokenizations shipped beside it.
 */
class LlamaTokenizeTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    @Test
    void qwen2FixturesTokenizeAsShippedAndDetokenizeBack() throws Exception {
        List<String> inputs = Arrays.asList(Files.readString(Oracle.source("models/ggml-vocab-qwen2.gguf.inp")).split(SEPARATOR, -1));
        List<String> expected = Files.readAllLines(Oracle.source("models/ggml-vocab-qwen2.gguf.out"));
        assertEquals(expected.size(), inputs.size() - 1, "one expected line per input");
        try (LlamaModel vocab = LlamaModel.loadVocabOnly(Oracle.source("models/ggml-vocab-qwen2.gguf"))) {
            assertEquals(151_936, vocab.vocabularySize());
            for (int i = 0; i < expected.size(); i++) {
                int[] wanted = expected.get(i).isBlank() ? new int[0]
                        : Arrays.stream(expected.get(i).trim().split(" ")).mapToInt(Integer::parseInt).toArray();
                int[] tokens = vocab.tokenize(inputs.get(i), false, false);
                assertArrayEquals(wanted, tokens, "input " + i + ": " + inputs.get(i));
                assertEquals(inputs.get(i), new String(vocab.detokenize(tokens, false, false), StandardCharsets.UTF_8), "input " + i);
            }
        }
    }
}
