package glmj.bench;

import glmj.kernel.LightningIndexer;
import glmj.kernel.MlaAttention;
import glmj.kernel.Selection;
import glmj.kernel.VectorKernels;
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
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * What one layer of GLM-5 adds to a decode step as the context grows: the lightning indexer's scan of every cached key
 * (32 heads of 128) and MLA attention over the 2048 rows it selects (64 heads, latent 512 plus rope 64), for one
 * token at position {@code depth}, at GLM-5's widths, on random f16 caches.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttentionBench {
    private static final MlaAttention.Shape ATTENTION = new MlaAttention.Shape(64, 512, 64, 256, 1 / (float) Math.sqrt(256));
    private static final LightningIndexer.Shape INDEXER = new LightningIndexer.Shape(32, 128, 2048);

    @Param({"4096", "32768"})
    public int depth;

    @Param("all")
    public String threads;

    private Arena arena;
    private VectorKernels kernels;
    private MlaAttention attention;
    private LightningIndexer indexer;
    private Selection selection;
    private MemorySegment latents;
    private MemorySegment keys;
    private float[] absorbed;
    private float[] q;
    private float[] indexerQueries;
    private float[] indexerWeights;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        kernels = new VectorKernels(KernelBench.threadCount(threads));
        int capacity = depth + 1;
        attention = kernels.attention(ATTENTION);
        indexer = kernels.indexer(INDEXER, 1, capacity);
        selection = new Selection(1, INDEXER.topK(), capacity);
        arena = Arena.ofShared();
        SplittableRandom random = new SplittableRandom(5);
        int width = ATTENTION.kvLoraRank() + ATTENTION.ropeLength();
        latents = halves(random, (long) capacity * width);
        keys = halves(random, (long) capacity * INDEXER.headLength());
        absorbed = floats(random, ATTENTION.heads() * ATTENTION.kvLoraRank());
        q = floats(random, ATTENTION.heads() * ATTENTION.headKeyLength());
        indexerQueries = floats(random, INDEXER.heads() * INDEXER.headLength());
        indexerWeights = floats(random, INDEXER.heads());
        out = new float[ATTENTION.heads() * ATTENTION.kvLoraRank()];
        indexer.select(indexerQueries, indexerWeights, keys, depth, 1, selection);
    }

    private MemorySegment halves(SplittableRandom random, long count) {
        MemorySegment segment = arena.allocate(count * 2, 64);
        for (long i = 0; i < count; i++) {
            segment.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16((float) random.nextGaussian()));
        }
        return segment;
    }

    private static float[] floats(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    /** The indexer's scores of every cached key and its top-k. */
    @Benchmark
    public Selection indexer() {
        indexer.select(indexerQueries, indexerWeights, keys, depth, 1, selection);
        return selection;
    }

    /** Attention over the selected rows. */
    @Benchmark
    public float[] attention() {
        attention.attend(absorbed, q, latents, depth + 1, selection, depth, 1, out);
        return out;
    }
}
