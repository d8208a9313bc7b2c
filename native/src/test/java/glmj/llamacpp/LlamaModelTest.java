package glmj.llamacpp;

import glmj.testdata.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test helper {@link LlamaModel} the logit comparisons rely on: every position's logits from one batch are the
 * logits of that prefix decoded on its own, batches continue at the right positions, and misuse fails clearly.
 */
class LlamaModelTest {
    private static final int[] PROMPT = IntStream.range(0, 12).map(i -> 1000 + 37 * i).toArray();

    @Test
    void logitsOfEveryPositionAreThoseOfEachPrefix() {
        try (LlamaModel model = LlamaModel.load(TestModels.tinyF32());
             LlamaModel.Context context = model.context(64, 16, 2)) {
            context.decode(PROMPT, true);
            assertEquals(PROMPT.length, context.position());
            float[][] batched = IntStream.range(0, PROMPT.length).mapToObj(context::logits).toArray(float[][]::new);
            assertArrayEquals(batched[PROMPT.length - 1], context.logits(-1));
            for (int n = 1; n <= PROMPT.length; n++) {
                context.clear();
                context.decode(Arrays.copyOf(PROMPT, n), false);
                // batches of another width sum in another order (a single token even takes ggml's vector kernels):
                // up to 4e-5 apart on logits near 5
                assertArrayEquals(batched[n - 1], context.logits(-1), 1e-4f, "prefix of " + n);
            }
            assertTrue(differ(batched[0], batched[1]), "the logits depend on the tokens");
        }
    }

    @Test
    void batchesContinueWhereTheLastEnded() {
        try (LlamaModel model = LlamaModel.load(TestModels.tinyF32());
             LlamaModel.Context context = model.context(64, 16, 2)) {
            context.decode(PROMPT, false);
            float[] whole = context.logits(-1);
            context.clear();
            context.decode(Arrays.copyOfRange(PROMPT, 0, 5), false);
            context.decode(Arrays.copyOfRange(PROMPT, 5, PROMPT.length), false);
            assertEquals(PROMPT.length, context.position());
            assertArrayEquals(whole, context.logits(-1));
        }
    }

    @Test
    void theEvalCallbackHandsOverTheGraphsNamedTensors() {
        try (LlamaModel model = LlamaModel.load(TestModels.tinyF32());
             LlamaModel.Context context = model.context(64, 16, 2, name -> name.startsWith("l_out-") || name.equals("result_output"))) {
            context.decode(PROMPT, true);
            assertEquals(model.layerCount() + 1, context.captured().size(), context.captured().keySet().toString());
            for (int il = 0; il < model.layerCount(); il++) {
                LlamaModel.Tensor residual = context.captured("l_out-" + il);
                assertArrayEquals(new long[] {model.embeddingLength(), PROMPT.length, 1, 1}, residual.ne(), residual.name());
            }
            // the logits as the graph computed them are those llama_get_logits_ith returns: the tensor is read right
            LlamaModel.Tensor logits = context.captured("result_output");
            assertArrayEquals(new long[] {model.vocabularySize(), PROMPT.length, 1, 1}, logits.ne());
            for (int t = 0; t < PROMPT.length; t++) {
                assertArrayEquals(context.logits(t), logits.row(t), "position " + t);
            }
            context.decode(new int[] {7}, true);
            assertEquals(1, context.captured("l_out-0").rows(), "each decode captures afresh");
            AssertionError absent = assertThrows(AssertionError.class, () -> context.captured("ffn_out-0"));
            assertTrue(absent.getMessage().contains("no tensor ffn_out-0"), absent.getMessage());
        }
    }

    @Test
    void misuseFailsWithAMessage() {
        try (LlamaModel model = LlamaModel.load(TestModels.tinyF32());
             LlamaModel.Context context = model.context(64, 16, 2)) {
            assertEquals(16, context.batchSize());
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> context.decode(new int[17], true));
            assertTrue(tooMany.getMessage().contains("1 to 16 tokens, not 17"), tooMany.getMessage());
            context.decode(PROMPT, false);
            assertThrows(IllegalArgumentException.class, () -> context.logits(PROMPT.length));
            AssertionError notKept = assertThrows(AssertionError.class, () -> context.logits(0));
            assertTrue(notKept.getMessage().contains("no logits for token 0"), notKept.getMessage());
        }
        AssertionError missing = assertThrows(AssertionError.class, () -> LlamaModel.load(Path.of("no-such-model.gguf")));
        assertTrue(missing.getMessage().contains("could not load no-such-model.gguf"), missing.getMessage());
    }

    private static boolean differ(float[] a, float[] b) {
        return IntStream.range(0, a.length).anyMatch(i -> a[i] != b[i]);
    }
}
