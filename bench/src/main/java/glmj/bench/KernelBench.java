package glmj.bench;

import glmj.kernel.Kernels;
import glmj.kernel.VectorKernels;
import glmj.kernel.Weight;
import glmj.llamacpp.GgmlKernels;
import glmj.tensor.GGMLType;
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
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@link VectorKernels#matmul} of one weight type, as a decode step (one token) and as a prompt chunk
 * ({@code prefillTokens} tokens) runs it. Each operation multiplies a {@code rows x cols} matrix (default 4096 x 4096,
 * an attention or dense-FFN projection's shape) by the activations; the {@link WeightTraffic#weightGB} counter
 * reports its weight bytes per second, the number to compare with the machine's memory bandwidth.
 *
 * <p>In a real decode step every matrix is read once and is not read again until the next token, by which time the
 * other 240 GB of the model have passed through the caches. So that the benchmark streams from memory too, and not
 * from a last-level cache (up to hundreds of MB on a server), it cycles through distinct copies of the matrix filling
 * {@code footprintMiB} (default 1 GiB); {@code -p footprintMiB=0} multiplies one copy over and over, its cache-warm
 * speed.
 *
 * <p>{@code threads} is a count, or {@code all} for every processor the JVM sees. Types without a dot kernel in this
 * build fail in setup ({@code BenchWeights.benchmarkable()} lists the ones that work); add a type to {@code type}'s
 * list when its kernel lands.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 1)
public class KernelBench {

    @Param({"F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_1", "Q5_K", "Q5_0", "Q4_1", "IQ4_NL", "Q4_K", "Q4_0", "IQ4_XS", "Q3_K", "IQ3_S", "IQ3_XXS",
            "Q2_K", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ1_M", "IQ1_S"})
    public String type;

    @Param({"1", "all"})
    public String threads;

    /** Whose kernels multiply: {@code vector}, glmj's own ({@link VectorKernels}), or {@code ggml}, llama.cpp's ({@link GgmlKernels}). */
    @Param({"vector", "ggml"})
    public String kernels;

    /** Output rows of the matrix. */
    @Param("4096")
    public int rows;

    /** Input columns of the matrix: the length of a dot product. */
    @Param("4096")
    public int cols;

    /** Tokens of {@link #prefill}. */
    @Param("64")
    public int prefillTokens;

    /** Bytes of weights the benchmark cycles through, in MiB; at least one matrix. */
    @Param("1024")
    public int footprintMiB;

    private Arena arena;
    private Kernels backend;
    private Weight[] copies;
    private long matrixBytes;
    private int next;
    private float[] decodeIn;
    private float[] decodeOut;
    private float[] prefillIn;
    private float[] prefillOut;

    @Setup(Level.Trial)
    public void setUp() {
        GGMLType weightType = GGMLType.valueOf(type);
        backend = kernels.equals("ggml") ? new GgmlKernels(threadCount(threads)) : new VectorKernels(threadCount(threads));
        matrixBytes = rows * weightType.byteSize(cols);
        int count = (int) Math.max(1, Math.ceilDiv((long) footprintMiB << 20, matrixBytes));
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate(count * matrixBytes, 64);
        BenchWeights.fill(weightType, data, (long) count * rows, cols, 64, new Random(0xBE7C4L + weightType.id));
        copies = new Weight[count];
        for (int i = 0; i < count; i++) {
            copies[i] = new Weight(type + "[" + i + "]", data.asSlice(i * matrixBytes, matrixBytes), weightType, rows, cols);
        }
        Random random = new Random(42);
        decodeIn = gaussians(cols, random);
        decodeOut = new float[rows];
        prefillIn = gaussians(prefillTokens * cols, random);
        prefillOut = new float[prefillTokens * rows];
        backend.matmul(copies[0], decodeIn, decodeOut, 1); // a type without a dot kernel fails here, before timing
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
        arena.close();
    }

    /** One token through one matrix: every weight byte read once, for a single dot product each. */
    @Benchmark
    public float decode(WeightTraffic traffic) {
        Weight w = nextCopy();
        backend.matmul(w, decodeIn, decodeOut, 1);
        traffic.weightGB += matrixBytes * 1e-9;
        return decodeOut[0];
    }

    /** {@code prefillTokens} tokens through one matrix; tokens per second is {@code prefillTokens} times ops/s. */
    @Benchmark
    public float prefill(WeightTraffic traffic) {
        Weight w = nextCopy();
        backend.matmul(w, prefillIn, prefillOut, prefillTokens);
        traffic.weightGB += matrixBytes * 1e-9;
        return prefillOut[0];
    }

    private Weight nextCopy() {
        Weight w = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        return w;
    }

    /** {@code "all"}: every processor the JVM sees; otherwise the number. */
    static int threadCount(String threads) {
        return threads.equals("all") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(threads);
    }

    private static float[] gaussians(int n, Random random) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
