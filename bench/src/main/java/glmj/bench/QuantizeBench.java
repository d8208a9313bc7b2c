package glmj.bench;

import glmj.llamacpp.Ggml;
import glmj.llamacpp.LlamaLibrary;
import glmj.tensor.GGMLType;
import glmj.tensor.quantize.Quantizer;
import org.openjdk.jmh.annotations.AuxCounters;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Quantizing a {@code rows x cols} F32 matrix (Gaussian weights with outliers) to one type, by glmj's quantizers or
 * by ggml's ({@code ggml_quantize_chunk}, the call llama-quantize makes for every chunk), with or without a
 * log-normal importance matrix, on {@code threads} threads that take chunks of rows as llama-quantize hands them out
 * (at least 16384 weights each). The {@link Input#inputMB} counter reports MB (10^6 bytes) of F32 weights quantized
 * per second; scripts/bench-quantize prints glmj's and ggml's side by side.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class QuantizeBench {

    @Param({"Q8_0", "Q6_K", "Q5_K", "Q4_K", "IQ4_NL", "IQ4_XS", "Q3_K", "IQ3_S", "IQ3_XXS", "Q2_K", "IQ2_S", "IQ2_XS",
            "IQ2_XXS", "IQ1_M", "IQ1_S", "Q4_0", "Q5_0", "F16", "BF16"})
    public String type;

    /** Whose quantizers: {@code glmj} ({@link Quantizer}) or {@code ggml} ({@code ggml_quantize_chunk}). */
    @Param({"glmj", "ggml"})
    public String quantizer;

    @Param({"true", "false"})
    public boolean importance;

    @Param({"1", "all"})
    public String threads;

    @Param("256")
    public int rows;

    @Param("4096")
    public int cols;

    /** F32 input quantized, in MB (10^6 bytes): JMH divides it by the iteration's time, so its lines are MB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Input {
        public double inputMB;

        @Setup(Level.Iteration)
        public void reset() {
            inputMB = 0;
        }
    }

    private GGMLType weightType;
    private Arena arena;
    private float[] weights;
    private float[] columnImportance;
    private MemorySegment nativeWeights;
    private MemorySegment nativeImportance;
    private MemorySegment output;
    private long rowBytes;
    private int rowsPerChunk;
    private int chunks;
    private ExecutorService pool;
    private final List<Future<?>> pending = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() {
        weightType = GGMLType.valueOf(type);
        if (!importance && Quantizer.requiresImportance(weightType)) {
            throw new IllegalArgumentException(type + " needs an importance matrix; run it with importance=true");
        }
        Random random = new Random(0xC0FFEE + weightType.id);
        weights = new float[rows * cols];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) random.nextGaussian() * (random.nextInt(64) == 0 ? 8 : 1) * 0.02f;
        }
        columnImportance = new float[cols];
        for (int i = 0; i < cols; i++) {
            columnImportance[i] = (float) Math.exp(1.5 * random.nextGaussian());
        }
        arena = Arena.ofShared();
        rowBytes = weightType.byteSize(cols);
        output = arena.allocate(rows * rowBytes, 64);
        if (quantizer.equals("ggml")) {
            LlamaLibrary.load();
            nativeWeights = arena.allocateFrom(ValueLayout.JAVA_FLOAT, weights);
            nativeImportance = importance ? arena.allocateFrom(ValueLayout.JAVA_FLOAT, columnImportance) : MemorySegment.NULL;
            Ggml.ggml_quantize_init(weightType.id); // the grid tables, as ggml_quantize_chunk builds them on first use
        } else if (!quantizer.equals("glmj")) {
            throw new IllegalArgumentException("quantizer is glmj or ggml, not " + quantizer);
        }
        // llama-quantize's chunks: whole rows, at least 32 * 512 weights
        rowsPerChunk = Math.max(1, Math.ceilDiv(32 * 512, cols));
        chunks = Math.ceilDiv(rows, rowsPerChunk);
        int threadCount = KernelBench.threadCount(threads);
        pool = threadCount > 1 ? Executors.newFixedThreadPool(threadCount - 1) : null;
        quantize(); // warms the grid tables of glmj's IQ quantizers outside the timing
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) {
            pool.shutdownNow();
        }
        arena.close();
    }

    @Benchmark
    public MemorySegment quantize(Input input) {
        quantize();
        input.inputMB += 4e-6 * weights.length;
        return output;
    }

    /** Quantizes the whole matrix: the pool's threads and this one take chunks until none are left. */
    private void quantize() {
        AtomicInteger next = new AtomicInteger();
        Runnable work = () -> {
            for (int chunk = next.getAndIncrement(); chunk < chunks; chunk = next.getAndIncrement()) {
                quantizeChunk(chunk);
            }
        };
        if (pool != null) {
            for (int t = 0; t < KernelBench.threadCount(threads) - 1; t++) {
                pending.add(pool.submit(work));
            }
        }
        work.run();
        try {
            for (Future<?> future : pending) {
                future.get();
            }
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        } finally {
            pending.clear();
        }
    }

    private void quantizeChunk(int chunk) {
        int row = chunk * rowsPerChunk;
        int count = Math.min(rowsPerChunk, rows - row);
        if (quantizer.equals("ggml")) {
            Ggml.ggml_quantize_chunk(weightType.id, nativeWeights, output, (long) row * cols, count, cols, nativeImportance);
        } else {
            Quantizer.quantize(weightType, weights, row * cols, count, cols, importance ? columnImportance : null,
                    output, row * rowBytes);
        }
    }
}
