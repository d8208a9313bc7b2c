package glmj.testdata;

import glmj.generate.Session;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Measures what a model's decode steps allocate on the heap, on the calling thread and glmj's workers, once its buffers
 * have grown and C2 has compiled the kernels. Until then they do allocate (interpreted and C1-compiled Vector API code
 * allocates every vector), so it decodes windows of 16 steps until one allocates nothing, for at most two minutes.
 */
public final class DecodeAllocations {
    /**
     * Prompt lengths that put decode steps on each attention path: ggml's small-batch kernel, and past 256 cached
     * tokens (in a context of more than 256) the f32 attention split across tasks.
     */
    public static final int SHORT_PROMPT = 40;
    public static final int LONG_PROMPT = 300;
    private static final int WINDOW = 16;
    private static final long PATIENCE_NANOS = 120_000_000_000L;

    /** The bytes allocated by the last window of {@link #WINDOW} steps, and how many windows ran. */
    public record Result(long bytes, int windows, int threads) {
        @Override
        public String toString() {
            return bytes + " bytes allocated by " + WINDOW + " decode steps on " + threads + " threads after " + windows + " windows";
        }
    }

    private DecodeAllocations() {}

    /** Prefills a prompt of {@code length} tokens into {@code model}, then decodes windows of 16 steps from there. */
    public static Result measure(Session model, int length) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int[] prompt = new int[length];
        Arrays.setAll(prompt, i -> 1000 + 37 * i);
        model.truncate(0);
        model.forward(prompt, 0, length);
        long[] ids = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t == Thread.currentThread() || t.getName().startsWith("glmj-worker"))
                .mapToLong(Thread::threadId).toArray();
        int[] token = {4242};
        long allocated = -1;
        int windows = 0;
        for (long start = System.nanoTime(); allocated != 0 && System.nanoTime() - start < PATIENCE_NANOS; windows++) {
            model.truncate(length);
            long before = allocatedBytes(threads, ids);
            for (int i = 0; i < WINDOW; i++) {
                model.forward(token, 0, 1);
            }
            allocated = allocatedBytes(threads, ids) - before;
        }
        return new Result(allocated, windows, ids.length);
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
