package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tokenize/detokenize bindings and the model-params layout, proven on llama.cpp's own fixtures: the qwen2
 * vocabulary and the expected tokenizations shipped beside it.
 */
class LlamaTokenizeTest {
    private static final String VOCAB = "ggml-vocab-qwen2.gguf";

    @Test
    void qwen2FixturesTokenizeAsShippedAndDetokenizeBack() throws Exception {
        List<byte[]> inputs = TokenizerFixturesTest.inputs(VOCAB);
        List<int[]> expected = TokenizerFixturesTest.expected(VOCAB);
        assertEquals(expected.size(), inputs.size(), "one expected line per input");
        try (LlamaModel vocab = LlamaModel.loadVocabOnly(Oracle.source("models/" + VOCAB))) {
            assertEquals(151_936, vocab.vocabularySize());
            for (int i = 0; i < expected.size(); i++) {
                int[] tokens = vocab.tokenize(inputs.get(i), false, false);
                assertArrayEquals(expected.get(i), tokens, "input " + i + ": " + TokenizerMatchesLlamaTest.show(inputs.get(i)));
                assertArrayEquals(inputs.get(i), vocab.detokenize(tokens, false, false), "input " + i);
            }
        }
    }
}
