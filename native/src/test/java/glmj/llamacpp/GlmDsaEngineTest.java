package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.generate.ContextFullException;
import glmj.generate.Session;
import glmj.model.GlmDsaEngine;
import glmj.testdata.TestModels;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** glmj's engine behind the Session interface: batching, truncation and the context bound. */
class GlmDsaEngineTest {

    @Test
    void promptsLongerThanABatchAndTruncationGiveTheSameLogits() throws Exception {
        int[] prompt = IntStream.range(0, 40).map(i -> 500 + 91 * i).toArray();
        try (GlmDsaEngine oneEngine = GlmDsaEngine.open(TestModels.tinyF32(), 64, 64, 2);
                GlmDsaEngine smallEngine = GlmDsaEngine.open(TestModels.tinyF32(), 64, 7, 2);
                Session oneBatch = oneEngine.newSession(); Session smallBatches = smallEngine.newSession()) {
            float[] whole = oneBatch.forward(prompt, 0, prompt.length).clone();
            float[] chunked = smallBatches.forward(prompt, 0, prompt.length).clone();
            assertEquals(40, smallBatches.position());
            assertArrayEquals(whole, chunked, 1e-3f, "batches of 7 against one batch of 40");

            smallBatches.truncate(25);
            assertArrayEquals(chunked, smallBatches.forward(prompt, 25, 15), 0f, "the same tokens again after truncation");

            ContextFullException full = assertThrows(ContextFullException.class, () -> smallBatches.forward(prompt, 0, 25));
            assertEquals(40, smallBatches.position());
            assertTrue(full.getMessage().contains("40 tokens held + 25 new > 64"), full.getMessage());
        }
    }
}
