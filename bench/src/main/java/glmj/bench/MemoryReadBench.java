package glmj.bench;

import glmj.kernel.VectorKernels;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * The yardstick for {@link KernelBench}: how fast plain vector loads (summed as longs) stream the same
 * {@code footprintMiB} of memory, split over the same {@link VectorKernels} worker pool a matmul uses. A kernel that
 * reaches this speed is memory-bound; one well below it is compute-bound.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 1)
public class MemoryReadBench {
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    /** Bytes read per operation: about a 4096 x 4096 Q4_K matrix. */
    private static final long CHUNK = 8L << 20;

    @Param({"1", "all"})
    public String threads;

    @Param("1024")
    public int footprintMiB;

    private Arena arena;
    private VectorKernels kernels;
    private MemorySegment data;
    private int chunks;
    private int next;
    private int ranges;
    private MemorySegment chunk;
    private long[] sums;
    private final IntConsumer sumRange = this::sumRange;

    @Setup(Level.Trial)
    public void setUp() {
        ranges = KernelBench.threadCount(threads);
        kernels = new VectorKernels(ranges);
        chunks = (int) Math.max(1, ((long) footprintMiB << 20) / CHUNK);
        arena = Arena.ofShared();
        data = arena.allocate(chunks * CHUNK, 64);
        data.fill((byte) 1);
        sums = new long[ranges * 16]; // a cache line apart
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public long read(WeightTraffic traffic) {
        chunk = data.asSlice(next * CHUNK, CHUNK);
        next = next + 1 == chunks ? 0 : next + 1;
        kernels.parallelFor(ranges, sumRange);
        traffic.weightGB += CHUNK * 1e-9;
        long total = 0;
        for (int r = 0; r < ranges; r++) {
            total += sums[16 * r];
        }
        return total;
    }

    private void sumRange(int range) {
        long step = L.vectorByteSize();
        long first = CHUNK / step * range / ranges * step;
        long end = CHUNK / step * (range + 1) / ranges * step;
        LongVector acc = LongVector.zero(L);
        for (long at = first; at < end; at += step) {
            acc = acc.add(LongVector.fromMemorySegment(L, chunk, at, ByteOrder.LITTLE_ENDIAN));
        }
        sums[16 * range] = acc.reduceLanes(VectorOperators.ADD);
    }
}
