package glmj.testdata;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.MachineMemory;
import glmj.engine.Model;
import glmj.engine.ModelOptions;
import glmj.engine.Models;
import glmj.engine.PrefetchChoice;
import glmj.generate.CacheTooLargeException;
import glmj.generate.Session;
import glmj.gguf.ActiveWeights;
import glmj.gguf.GGUFFile;
import glmj.gguf.TensorInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model on a machine pretended too small for it: loading says so in one line and goes on, reads in only what every
 * step needs, prefetches the chosen experts, and computes the same logits as with everything in memory.
 */
class LargerThanMemoryTest {
    private static final long LARGE = 1L << 40;

    private static ModelOptions options(int context, PrefetchChoice prefetch) {
        return new ModelOptions(context, 64, 1, EngineChoice.java, KernelChoice.vector, false, prefetch);
    }

    @Test
    void aMachineTooSmallForTheWeightsIsToldInOneLineAndTheModelStillRuns() throws IOException, InterruptedException {
        Path path = TestModels.tinyQuantMix();
        ActiveWeights weights;
        long everyStepTensors = 0, allReadTensors = 0;
        try (GGUFFile file = GGUFFile.open(path)) {
            weights = ActiveWeights.of(file);
            for (TensorInfo t : ActiveWeights.readWhole(file, false)) {
                everyStepTensors += t.byteSize();
            }
            for (TensorInfo t : ActiveWeights.readWhole(file, true)) {
                allReadTensors += t.byteSize();
            }
        }
        assertTrue(everyStepTensors < allReadTensors);
        // room for the cache and what every step reads, not for all the experts
        MachineMemory small = new MachineMemory(LARGE, weights.everyToken() + weights.routedExperts() / 2);
        List<String> notices = new ArrayList<>();
        try (Model model = Models.open(path, options(256, PrefetchChoice.auto), notices::add, small)) {
            assertFalse(model.memory().weightsStayResident());
            assertTrue(notices.stream().anyMatch(n -> n.contains("do not fit in the") && n.contains("going on")), notices.toString());
            assertEquals(everyStepTensors, model.pageIn().total());
            assertTrue(model.pageIn().await(60_000));
            assertEquals(everyStepTensors, model.pageIn().done());
        }
        notices.clear();
        try (Model model = Models.open(path, options(256, PrefetchChoice.auto), notices::add, new MachineMemory(LARGE, LARGE))) {
            assertTrue(model.memory().weightsStayResident());
            assertTrue(notices.stream().noneMatch(n -> n.contains("do not fit")), notices.toString());
            assertEquals(allReadTensors, model.pageIn().total());
        }
    }

    @Test
    void aKvCacheLargerThanTheMemoryIsAnErrorBeforeAnythingLoads() throws IOException {
        MachineMemory tiny = new MachineMemory(LARGE, 1 << 20);
        CacheTooLargeException e = assertThrows(CacheTooLargeException.class,
                () -> Models.open(TestModels.tinyQuantMix(), options(4096, PrefetchChoice.auto), notice -> { }, tiny));
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(e.getMessage().contains("lower the context size with -c"), e.getMessage());
    }

    @Test
    void prefetchingTheChosenExpertsLeavesEveryLogitAsItWas() throws IOException {
        int[] prompt = {1, 17, 42, 99, 5, 73, 8, 250};
        float[][] off = logits(PrefetchChoice.off, prompt);
        float[][] on = logits(PrefetchChoice.on, prompt);
        for (int step = 0; step < off.length; step++) {
            assertArrayEquals(off[step], on[step], 0f, "step " + step);
        }
    }

    /** The logits of the prompt as one batch, then of each token decoded one by one. */
    private static float[][] logits(PrefetchChoice prefetch, int[] prompt) throws IOException {
        try (Model model = Models.open(TestModels.tinyQuantMix(), options(64, prefetch), notice -> { }, new MachineMemory(LARGE, LARGE));
             Session session = model.newSession()) {
            float[][] logits = new float[prompt.length + 1][];
            logits[0] = session.forward(prompt, 0, prompt.length).clone();
            for (int t = 0; t < prompt.length; t++) {
                logits[t + 1] = session.forward(prompt, t, 1).clone();
            }
            return logits;
        }
    }
}
