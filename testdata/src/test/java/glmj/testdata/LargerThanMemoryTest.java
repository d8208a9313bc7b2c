package glmj.testdata;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.MachineMemory;
import glmj.engine.MemoryPlan;
import glmj.engine.Model;
import glmj.engine.ModelOptions;
import glmj.engine.Models;
import glmj.engine.PrefetchChoice;
import glmj.generate.CacheTooLargeException;
import glmj.generate.Session;
import glmj.gguf.ActiveWeights;
import glmj.gguf.GGUFFile;
import glmj.gguf.TensorInfo;
import glmj.kernel.VectorKernels;
import glmj.model.GlmDsaConfig;
import glmj.model.GlmDsaEngine;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

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
        List<MemoryPlan> plans = new ArrayList<>();
        try (Model model = Models.open(path, options(256, PrefetchChoice.auto), notices::add, small, plans::add)) {
            assertEquals(1, plans.size());
            assertFalse(plans.getFirst().weightsStayResident());
            assertTrue(notices.stream().anyMatch(n -> !n.contains("\n") && n.contains("do not fit in the")
                    && n.contains("from disk and decoding runs at most") && n.endsWith("going on")), notices.toString());
            assertEquals(everyStepTensors, model.pageIn().total());
            assertTrue(model.pageIn().await(60_000));
            assertEquals(everyStepTensors, model.pageIn().done());
        }
        notices.clear();
        plans.clear();
        try (Model model = Models.open(path, options(256, PrefetchChoice.auto), notices::add, new MachineMemory(LARGE, LARGE), plans::add)) {
            assertTrue(plans.getFirst().weightsStayResident());
            assertTrue(notices.stream().noneMatch(n -> n.contains("do not fit")), notices.toString());
            assertEquals(allReadTensors, model.pageIn().total());
        }
    }

    @Test
    void aKvCacheLargerThanTheMemoryIsAnErrorBeforeAnythingLoads() throws IOException {
        MachineMemory tiny = new MachineMemory(LARGE, 1 << 20);
        CacheTooLargeException e = assertThrows(CacheTooLargeException.class,
                () -> Models.open(TestModels.tinyQuantMix(), options(4096, PrefetchChoice.auto), notice -> { }, tiny, plan -> { }));
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

    /**
     * With prefetching, each MoE layer of a decode step advises exactly its chosen experts' slices of
     * {@code ffn_gate_exps}, {@code ffn_up_exps} and {@code ffn_down_exps}: {@code expert_used_count} whole experts,
     * the same ones in all three, layer after layer; and a prompt advises each chosen expert of a layer once.
     */
    @Test
    void prefetchingAdvisesTheChosenExpertsSlicesOfEachMoeLayer() throws IOException {
        List<MemorySegment> advised = new ArrayList<>();
        GGUFFile file = GGUFFile.open(TestModels.tinyQuantMix());
        try (GlmDsaEngine engine = GlmDsaEngine.of(file, 64, 64, new VectorKernels(1), advised::add);
             Session session = engine.newSession()) {
            GlmDsaConfig c = engine.model().config();
            int[] prompt = {1, 17, 42, 99};
            session.forward(prompt, 0, prompt.length);
            int at = 0;
            for (int il = c.denseLeadCount(); il < c.layerCount(); il++) {
                List<Set<Integer>> experts = expertsOf(file, il, advised.subList(at, advised.size()));
                assertTrue(experts.getFirst().size() >= c.expertUsedCount()[il], "layer " + il);
                at += 3 * experts.getFirst().size();
            }
            assertEquals(advised.size(), at);

            advised.clear();
            session.forward(new int[] {250}, 0, 1);
            assertTrue(c.layerCount() > c.denseLeadCount());
            at = 0;
            for (int il = c.denseLeadCount(); il < c.layerCount(); il++) {
                int used = c.expertUsedCount()[il];
                List<Set<Integer>> experts = expertsOf(file, il, advised.subList(at, Math.min(advised.size(), at + 3 * used)));
                assertEquals(used, experts.getFirst().size(), "layer " + il);
                at += 3 * used;
            }
            assertEquals(advised.size(), at);
        }
    }

    /**
     * The experts of layer {@code il} that {@code advised} starts with, read as gate, up and down slices of one expert
     * after another, in expert order, up to the first range that is not this layer's; each of the three
     * projections' sets, checked to be the same.
     */
    private static List<Set<Integer>> expertsOf(GGUFFile file, int il, List<MemorySegment> advised) {
        String[] tensors = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
        List<Set<Integer>> experts = List.of(new TreeSet<>(), new TreeSet<>(), new TreeSet<>());
        int previous = -1;
        for (int i = 0; i + 3 <= advised.size(); i += 3) {
            int expert = -1;
            for (int p = 0; p < 3; p++) {
                TensorInfo tensor = file.tensor("blk." + il + "." + tensors[p] + ".weight");
                int e = sliceIndex(tensor, advised.get(i + p));
                if (e < 0 || (p > 0 && e != expert)) {
                    assertEquals(0, p, "layer " + il + ": a gate without its up and down");
                    return checkedAlike(experts, il);
                }
                expert = e;
                experts.get(p).add(e);
            }
            assertTrue(expert > previous, "layer " + il + ": experts in order, each once");
            previous = expert;
        }
        return checkedAlike(experts, il);
    }

    private static List<Set<Integer>> checkedAlike(List<Set<Integer>> experts, int il) {
        assertEquals(experts.get(0), experts.get(1), "layer " + il);
        assertEquals(experts.get(0), experts.get(2), "layer " + il);
        return experts;
    }

    /** Which expert's whole slice of the stacked {@code tensor} {@code range} is; -1 when it is none. */
    private static int sliceIndex(TensorInfo tensor, MemorySegment range) {
        long expertBytes = tensor.byteSize() / tensor.dim(2);
        long offset = range.address() - tensor.data().address();
        if (range.byteSize() != expertBytes || offset < 0 || offset >= tensor.byteSize() || offset % expertBytes != 0) {
            return -1;
        }
        return Math.toIntExact(offset / expertBytes);
    }

    /** The logits of the prompt as one batch, then of each token decoded one by one. */
    private static float[][] logits(PrefetchChoice prefetch, int[] prompt) throws IOException {
        try (Model model = Models.open(TestModels.tinyQuantMix(), options(64, prefetch), notice -> { }, new MachineMemory(LARGE, LARGE), plan -> { });
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
