package glmj.model;

import glmj.testdata.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Once its buffers have grown and C2 has compiled the kernels, a decode step allocates nothing on the heap, on the
 * calling thread or the workers. Until then it does (interpreted and C1-compiled Vector API code allocates every
 * vector), so the test decodes windows of 16 steps until one allocates nothing, for at most two minutes.
 */
class DecodeAllocatesNothingTest {
    private static final int PROMPT = 40;
    private static final int WINDOW = 16;
    private static final long PATIENCE_NANOS = 120_000_000_000L;

    @Test
    void decodeStepsAllocateNothingOnceCompiled() throws IOException {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (GlmDsaEngine engine = GlmDsaEngine.open(TestModels.tinyQuantMix(), 256, 32, 2)) {
            int[] prompt = new int[PROMPT];
            Arrays.setAll(prompt, i -> 1000 + 37 * i);
            engine.forward(prompt, 0, PROMPT);
            long[] ids = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t == Thread.currentThread() || t.getName().startsWith("glmj-worker"))
                    .mapToLong(Thread::threadId).toArray();
            int[] token = {4242};
            long allocated = -1;
            int windows = 0;
            for (long start = System.nanoTime(); allocated != 0 && System.nanoTime() - start < PATIENCE_NANOS; windows++) {
                engine.truncate(PROMPT);
                long before = allocatedBytes(threads, ids);
                for (int i = 0; i < WINDOW; i++) {
                    engine.forward(token, 0, 1);
                }
                allocated = allocatedBytes(threads, ids) - before;
            }
            System.out.printf("decode: %d bytes allocated in the last window of %d steps, after %d windows%n", allocated, WINDOW, windows);
            assertEquals(0, allocated, "bytes allocated by " + WINDOW + " decode steps on " + ids.length + " threads after "
                    + windows + " windows");
        }
    }

    /** Bytes the threads have allocated, read one thread at a time: the array-returning form would allocate itself. */
    private static long allocatedBytes(com.sun.management.ThreadMXBean threads, long[] ids) {
        long sum = 0;
        for (long id : ids) {
            sum += threads.getThreadAllocatedBytes(id);
        }
        return sum;
    }
}
