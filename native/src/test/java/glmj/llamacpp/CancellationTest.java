package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.generate.Processing;
import glmj.generate.Session;
import glmj.gguf.GGUFFile;
import glmj.kernel.ForwardingKernels;
import glmj.kernel.Kernels;
import glmj.kernel.Rows;
import glmj.kernel.VectorKernels;
import glmj.kernel.Weight;
import glmj.model.GlmDsaEngine;
import glmj.tensor.GGMLType;
import glmj.testdata.TestModels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A cancelled prompt stops within the work under way, not at the end of a layer or a batch (a layer of a 512-token
 * batch of GLM-5 takes seconds): no parallel step of glmj's engine completes after the key, llama.cpp's decode stops
 * after the graph operation under way, and ggml's graphs in glmj's kernels too. The session then holds what it held
 * before the batch and goes on as if the batch had never started.
 */
class CancellationTest {
    private static final int[] PROMPT = IntStream.range(0, 64).map(i -> 300 + 77 * i).toArray();
    private static final IntConsumer NO_PROGRESS = done -> { };

    @ParameterizedTest
    @ValueSource(strings = {"vector", "ggml"})
    void noStepOfGlmjsEngineCompletesAfterTheKey(String kernelsName) throws Exception {
        Oracle.library();
        Kernels kernels = kernelsName.equals("vector") ? new VectorKernels(2) : new GgmlKernels(2);
        KeyAtStep keyed = new KeyAtStep(kernels);
        try (GlmDsaEngine engine = GlmDsaEngine.of(GGUFFile.open(TestModels.tinyQuantMix()), 128, PROMPT.length, keyed);
             Session session = engine.newSession(); Session fresh = engine.newSession()) {
            Processing cancellable = Processing.of(keyed.key::get, NO_PROGRESS);
            float[] expected = fresh.forward(PROMPT, 0, PROMPT.length).clone();
            int steps = keyed.steps;
            assertTrue(steps > 50, steps + " parallel steps in a batch");
            for (int pressAt = 0; pressAt < steps; pressAt += 1 + steps / 60) {
                keyed.pressAt(pressAt);
                assertThrows(CancellationException.class, () -> session.forward(PROMPT, 0, PROMPT.length, cancellable),
                        "key at step " + pressAt);
                assertEquals(0, keyed.completedAfterKey, "steps completed after the key at step " + pressAt + " of " + steps);
                assertEquals(0, session.position(), "the cancelled batch is not in the cache");
            }
            keyed.pressAt(-1);
            assertArrayEquals(expected, session.forward(PROMPT, 0, PROMPT.length, cancellable), "after the cancelled batches");
        }
    }

    @Test
    void llamaCppsDecodeStopsAfterTheOperationUnderWay() {
        Oracle.library();
        try (LlamaEngine engine = new LlamaEngine(List.of(TestModels.tinyQuantMix()), 128, PROMPT.length, 2, false);
             Session session = engine.newSession(); Session fresh = engine.newSession()) {
            float[] expected = fresh.forward(PROMPT, 0, PROMPT.length).clone();
            AtomicInteger asked = new AtomicInteger();
            session.forward(PROMPT, 0, PROMPT.length, Processing.of(() -> asked.incrementAndGet() < 0, NO_PROGRESS));
            int perBatch = asked.get();
            assertTrue(perBatch > 100, "asked " + perBatch + " times in a batch: once before it, then after each operation");
            session.truncate(0);
            for (int pressAt : new int[] {2, perBatch / 2, perBatch}) {
                asked.set(0);
                Processing cancellable = Processing.of(() -> asked.incrementAndGet() >= pressAt, NO_PROGRESS);
                assertThrows(CancellationException.class, () -> session.forward(PROMPT, 0, PROMPT.length, cancellable));
                assertEquals(pressAt, asked.get(), "llama.cpp went on after the key");
                assertEquals(0, session.position());
            }
            assertArrayEquals(expected, session.forward(PROMPT, 0, PROMPT.length), "after the cancelled batches");
        }
    }

    @Test
    void ggmlsGraphsInGlmjsKernelsStopAfterTheOperationUnderWay() {
        Oracle.library();
        GgmlCpu.ggml_cpu_init();
        // Q8_0 batches run as ggml graphs, one mul_mat operation per group of the range: with one thread 4 ranges of 8
        int groups = 32, rows = 64, cols = 256, batch = 16;
        Random random = new Random(15);
        try (Arena arena = Arena.ofShared(); GgmlKernels kernels = new GgmlKernels(1)) {
            Weight[] weights = new Weight[groups];
            for (int g = 0; g < groups; g++) {
                MemorySegment data = arena.allocate(rows * GGMLType.Q8_0.byteSize(cols), 64);
                VectorKernelsMatchGgmlTest.fillRandomBlocks(GGMLType.Q8_0, data, random);
                weights[g] = new Weight("expert[" + g + "]", data, GGMLType.Q8_0, rows, cols);
            }
            float[] x = new float[batch * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] out = new float[batch * groups * rows];
            AtomicInteger graphAsks = new AtomicInteger();
            kernels.cancelWhen(() -> askedByAGraph() && graphAsks.incrementAndGet() >= 2);
            assertThrows(CancellationException.class,
                    () -> kernels.matmuls(weights, new Rows(x, 0, 0, cols), new Rows(out, 0, rows, groups * rows), batch));
            assertEquals(2, graphAsks.get(), "the graph went on after its second operation said stop");
            kernels.cancelWhen(() -> askedByAGraph() && graphAsks.incrementAndGet() < 0);
            graphAsks.set(0);
            kernels.matmuls(weights, new Rows(x, 0, 0, cols), new Rows(out, 0, rows, groups * rows), batch);
            assertEquals(groups, graphAsks.get(), "asked after each operation of the step's graphs");
        }
    }

    /** Whether the calling thread is inside a ggml graph compute of {@link GgmlKernels}, which asks through its abort callback. */
    private static boolean askedByAGraph() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(frame ->
                frame.getClassName().endsWith("GgmlKernels$Graph") && frame.getMethodName().equals("compute")));
    }

    /**
     * Kernels that count the parallel steps of a forward pass and press the key as a chosen one begins (a step of
     * {@link #parallelFor} within its first task, once the step is under way), counting the steps begun after the key
     * that complete.
     */
    private static final class KeyAtStep extends ForwardingKernels {
        final AtomicBoolean key = new AtomicBoolean();
        int steps;
        int completedAfterKey;
        private int pressAt = -1;

        KeyAtStep(Kernels kernels) {
            super(kernels);
        }

        void pressAt(int step) {
            key.set(false);
            steps = 0;
            completedAfterKey = 0;
            pressAt = step;
        }

        private boolean begin() {
            return steps++ == pressAt;
        }

        /** Presses the key if {@code now}; whether it is pressed as the step starts. */
        private boolean press(boolean now) {
            if (now) {
                key.set(true);
            }
            return key.get();
        }

        private void complete(boolean begunAfterKey) {
            if (begunAfterKey) {
                completedAfterKey++;
            }
        }

        @Override
        public void matmul(Weight w, float[] x, float[] out, int batch) {
            boolean afterKey = press(begin());
            kernels.matmul(w, x, out, batch);
            complete(afterKey);
        }

        @Override
        public void matmuls(Weight[] weights, Rows x, Rows out, int batch) {
            boolean afterKey = press(begin());
            kernels.matmuls(weights, x, out, batch);
            complete(afterKey);
        }

        @Override
        public void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                                  float[] out, int[] firstOutput) {
            boolean afterKey = press(begin());
            kernels.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);
            complete(afterKey);
        }

        @Override
        public void swiGlu(float[] a, int n, int upOffset) {
            boolean afterKey = press(begin());
            kernels.swiGlu(a, n, upOffset);
            complete(afterKey);
        }

        @Override
        public void parallelFor(int count, IntConsumer task) {
            boolean within = begin();
            boolean afterKey = key.get();
            kernels.parallelFor(count, within ? i -> {
                press(i == 0);
                task.accept(i);
            } : task);
            complete(afterKey);
        }
    }
}
