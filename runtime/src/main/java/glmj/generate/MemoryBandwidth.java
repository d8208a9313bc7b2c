package glmj.generate;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's memory read bandwidth as a decode step sees it: {@code threads} threads stream through their shares of
 * an off-heap region far larger than any cache with the widest vector loads, as the kernels read weights. The roof
 * of a roofline: decoding cannot read weights faster than this.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Long> SPECIES = LongVector.SPECIES_PREFERRED;
    /** Bytes one step of the read loop covers: four independent vector accumulators. */
    private static final int STEP = 4 * SPECIES.vectorByteSize();
    /** The region the warm-up passes read: enough for the JIT to compile the loop, small enough to be quick. */
    private static final long WARM_UP_BYTES = 1 << 24;
    private static final int WARM_UP_PASSES = 20;

    /** Keeps the sums alive, so that the JIT cannot drop the reads. */
    private static volatile long sink;

    private MemoryBandwidth() {
    }

    /** Read passes over the region, in bytes per second. */
    public record Result(long bytes, int threads, double[] bytesPerSecond) {
        /** The fastest pass, as STREAM reports bandwidth: the others lost time to something else. */
        public double best() {
            double best = 0;
            for (double speed : bytesPerSecond) {
                best = Math.max(best, speed);
            }
            return best;
        }
    }

    /**
     * Reads a region of {@code bytes} (rounded down to whole loop steps per thread) {@code passes} times, after a
     * warm-up, with {@code threads} threads each reading an equal contiguous share.
     */
    public static Result measure(long bytes, int threads, int passes) {
        if (threads < 1 || passes < 1) {
            throw new IllegalArgumentException("threads and passes must be 1 or more, got " + threads + " and " + passes);
        }
        long share = bytes / threads / STEP * STEP;
        if (share == 0) {
            throw new IllegalArgumentException(bytes + " bytes are too few for " + threads + " threads");
        }
        try (Arena arena = Arena.ofShared(); ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            MemorySegment region = arena.allocate(share * threads, 4096);
            // Written, not just allocated: untouched pages would all map the one zero page, which stays in cache.
            region.fill((byte) 1);
            for (int i = 0; i < WARM_UP_PASSES; i++) {
                readInParallel(region.asSlice(0, Math.min(region.byteSize(), WARM_UP_BYTES * threads)), threads, pool);
            }
            double[] speeds = new double[passes];
            for (int pass = 0; pass < passes; pass++) {
                long start = System.nanoTime();
                readInParallel(region, threads, pool);
                speeds[pass] = region.byteSize() * 1e9 / (System.nanoTime() - start);
            }
            return new Result(region.byteSize(), threads, speeds);
        }
    }

    private static void readInParallel(MemorySegment region, int threads, ExecutorService pool) {
        long share = region.byteSize() / threads / STEP * STEP;
        List<Future<Long>> sums = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            MemorySegment part = region.asSlice(t * share, share);
            sums.add(pool.submit(() -> sum(part)));
        }
        long total = 0;
        try {
            for (Future<Long> sum : sums) {
                total += sum.get();
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring memory bandwidth", e);
        }
        sink = total;
    }

    /** The sum of the region's longs, read in vector loads; its length is a multiple of {@link #STEP}. */
    private static long sum(MemorySegment part) {
        int width = SPECIES.vectorByteSize();
        LongVector a = LongVector.zero(SPECIES);
        LongVector b = LongVector.zero(SPECIES);
        LongVector c = LongVector.zero(SPECIES);
        LongVector d = LongVector.zero(SPECIES);
        ByteOrder order = ByteOrder.nativeOrder();
        for (long offset = 0; offset < part.byteSize(); offset += STEP) {
            a = a.add(LongVector.fromMemorySegment(SPECIES, part, offset, order));
            b = b.add(LongVector.fromMemorySegment(SPECIES, part, offset + width, order));
            c = c.add(LongVector.fromMemorySegment(SPECIES, part, offset + 2L * width, order));
            d = d.add(LongVector.fromMemorySegment(SPECIES, part, offset + 3L * width, order));
        }
        return a.add(b).add(c).add(d).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
