package glmj.testdata;

import glmj.generate.Session;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Measures what a model's decode steps allocate on the heap, on the calling thread and glmj's workers, once its buffers
 * have grown and C2 has compiled the kernels. Until then they do allocate (interpreted and C1-compiled Vector API code
 * allocates every vector), so it decodes windows of 16 steps until one allocates nothing, for at most two minutes. If
 * none does, one more window runs under JFR, and the result names where it allocated.
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
    /** Allocation sites a failing result names, the heaviest first. */
    private static final int SITES = 5;
    /** glmj's frames a site shows, innermost first. */
    private static final int FRAMES = 3;

    /**
     * The bytes allocated by the last window of {@link #WINDOW} steps, how many windows ran, how long the last took (a
     * slow one runs code C2 has not compiled), and where a window that still allocated did it (JFR's sampled class and
     * frames, with their share of the sampled bytes).
     */
    public record Result(long bytes, int windows, int threads, double millisPerWindow, List<String> sites) {
        @Override
        public String toString() {
            return bytes + " bytes allocated by " + WINDOW + " decode steps on " + threads + " threads after " + windows + " windows"
                    + String.format(" (the last in %.1f ms)", millisPerWindow)
                    + (sites.isEmpty() ? "" : "; allocated at: " + String.join("; ", sites));
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
        long allocated = -1, nanos = 0;
        int windows = 0;
        for (long start = System.nanoTime(); allocated != 0 && System.nanoTime() - start < PATIENCE_NANOS; windows++) {
            long before = allocatedBytes(threads, ids), began = System.nanoTime();
            decodeWindow(model, length, token);
            nanos = System.nanoTime() - began;
            allocated = allocatedBytes(threads, ids) - before;
        }
        return new Result(allocated, windows, ids.length, nanos / 1e6,
                allocated == 0 ? List.of() : allocationSites(model, length, token));
    }

    private static void decodeWindow(Session model, int length, int[] token) {
        model.truncate(length);
        for (int i = 0; i < WINDOW; i++) {
            model.forward(token, 0, 1);
        }
    }

    /** One more window under JFR's allocation sampling: its heaviest sites, as "class at glmj frame < caller < caller (share of bytes)". */
    private static List<String> allocationSites(Session model, int length, int[] token) {
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ObjectAllocationSample").with("throttle", "10000/s").withStackTrace();
            recording.start();
            Instant window = Instant.now();
            decodeWindow(model, length, token);
            recording.stop();
            Path file = Files.createTempFile("glmj-decode-allocations", ".jfr");
            try {
                recording.dump(file);
                Map<String, Long> weights = new HashMap<>();
                for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                    // JFR's own allocations as it starts come before the window
                    if (!event.getStartTime().isBefore(window)) {
                        weights.merge(site(event), event.getLong("weight"), Long::sum);
                    }
                }
                long total = Math.max(1, weights.values().stream().mapToLong(Long::longValue).sum());
                return weights.entrySet().stream()
                        .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                        .limit(SITES)
                        .map(e -> e.getKey() + " (" + 100 * e.getValue() / total + "%)")
                        .toList();
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The allocated class and the innermost {@link #FRAMES} of glmj's own frames that led to it. */
    private static String site(RecordedEvent event) {
        List<RecordedFrame> frames = event.getStackTrace() == null ? List.of() : event.getStackTrace().getFrames();
        String path = frames.stream()
                .filter(f -> f.getMethod().getType().getName().startsWith("glmj."))
                .limit(FRAMES)
                .map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName() + ":" + f.getLineNumber())
                .collect(Collectors.joining(" < "));
        return event.getClass("objectClass").getName() + " at " + (path.isEmpty() ? "?" : path);
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
