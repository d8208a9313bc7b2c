package glmj.bench;

import glmj.convert.GlmDsaTensorMap;
import glmj.gguf.GGUFFile;
import glmj.hf.HfCheckpoint;
import glmj.quality.ModelWeightErrors;
import glmj.quality.WeightComparison;
import glmj.testdata.BenchGlmDsa;
import glmj.testdata.TestModels;
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

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * {@code glmj quality weights}' pass once the JIT has compiled it: the bench model compared with its FP8 checkpoint
 * ({@code scripts/bench-model} and {@code --checkpoint}), every tensor, on {@code threads} threads. The
 * {@link WeightTraffic#weightGB} counter is the checkpoint's and the GGUF's bytes read, so its lines are the GB/s that
 * issue 13 holds against {@code glmj bench --memory}; the command's own figure adds its first pass's JIT warm-up.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class WeightComparisonBench {

    @Param({"all"})
    public String threads;

    private Path checkpointDirectory;
    private HfCheckpoint checkpoint;
    private GlmDsaTensorMap reference;
    private GGUFFile model;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        checkpointDirectory = TestModels.benchCheckpoint(BenchGlmDsa.Scale.FULL);
        checkpoint = HfCheckpoint.open(checkpointDirectory);
        reference = GlmDsaTensorMap.of(checkpoint);
        model = GGUFFile.open(TestModels.benchModel(BenchGlmDsa.Scale.FULL));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
        checkpoint.close();
    }

    /** One pass over both files. */
    @Benchmark
    public double pass(WeightTraffic traffic) {
        ModelWeightErrors errors = WeightComparison.measure(reference, checkpointDirectory, model,
                KernelBench.threadCount(threads), WeightComparison.Progress.NONE);
        traffic.weightGB += errors.bytesRead() * 1e-9;
        return errors.total().relativeRms();
    }
}
