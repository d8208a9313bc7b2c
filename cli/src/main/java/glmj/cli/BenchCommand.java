package glmj.cli;

import glmj.engine.Units;
import glmj.engine.Model;
import glmj.engine.Models;
import glmj.generate.Session;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.generate.Benchmark;
import glmj.generate.MemoryBandwidth;
import glmj.gguf.ActiveWeights;
import glmj.gguf.TensorSource;
import glmj.gguf.Metadata;
import java.io.IOException;
import java.time.Duration;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import me.tongfei.progressbar.ProgressBar;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Measures prompt processing (pp) and generation (tg) speed in tokens/s, as llama-bench does.",
            "After a warm-up, each of -r repetitions starts from a context holding -d tokens (empty by default) and processes random tokens; the result is their mean and standard deviation.",
            "The context holds exactly the depth and the longer test unless -c says otherwise.",
            "--json also reports the weight bytes a decode step reads (active_bytes_per_token).",
            "--memory measures the machine's memory read bandwidth with -t threads instead, the roof decoding speed is bounded by."
        },
        footer = {"", "Examples:",
            "  glmj bench -m model.gguf -p 128 -n 32 -t 2",
            "  glmj bench -m model.gguf -p 0 -n 32 -d 4096   # tg after 4096 tokens",
            "  glmj bench -m glm5.gguf -p 0 -n 8 -d 131072 --fill-model twin.gguf   # the depth filled in minutes",
            "  glmj bench -m model.gguf --json | jq .tg_tps",
            "  glmj bench --memory -t 2"})
final class BenchCommand implements Callable<Integer> {
    /** The region --memory reads: larger than any CPU's last-level cache. */
    private static final long MEMORY_REGION_BYTES = 1L << 30;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", description = "Prompt tokens per pp run; 0 skips pp (default: ${DEFAULT-VALUE}).")
    int promptTokens = 512;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", description = "Tokens per tg run; 0 skips tg (default: ${DEFAULT-VALUE}).")
    int generatedTokens = 128;

    @Option(names = {"-d", "--n-depth"}, paramLabel = "N", description = "Tokens already in the context when each run starts, processed once untimed (default: ${DEFAULT-VALUE}).")
    int depth = 0;

    @Option(names = "--fill-model", paramLabel = "FILE", description = {
            "Fill the -d tokens with this model instead, then move its context into the measured model's: a model with the same KV cache layout (layers, latent and indexer key widths) but far cheaper per token, such as 'scripts/bench-model --geometry glm5 --cache-twin' writes.",
            "A depth of 131072 takes a full-width model hours to fill. The tests then run over the filler's cached keys: they measure the depth's speed, not the model's outputs."})
    Path fillModel;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", description = "Repetitions of each test, or read passes with --memory (default: ${DEFAULT-VALUE}).")
    int repetitions = 5;

    @Option(names = "--warm-up", paramLabel = "MS", description = {
            "Warm up each test with whole runs for at least MS milliseconds, at least one run (default: ${DEFAULT-VALUE}).",
            "The Java engine runs at its compiled speed only once the JIT has compiled it: on 2 cores its compiler works for about 10 s on the bench model, competing with the model for the cores. llama.cpp gets the same warm-up."})
    long warmUpMillis = 10_000;

    @Option(names = "--json", description = "Print one JSON object (with pp_tps and tg_tps, the means) instead of a table.")
    boolean json;

    @Option(names = "--memory", description = "Measure memory read bandwidth (GB/s, the best of -r passes over 1 GiB) instead of a model.")
    boolean memory;

    @Override
    public Integer call() throws IOException {
        if (memory) {
            return measureMemory();
        }
        if (warmUpMillis < 0) {
            throw new UserInputException("--warm-up must be 0 or more milliseconds, got " + warmUpMillis);
        }
        if (promptTokens < 0 || generatedTokens < 0 || depth < 0 || repetitions < 1 || promptTokens + generatedTokens == 0) {
            throw new UserInputException("-p, -n and -d must be 0 or more, -p and -n not both 0, -r 1 or more");
        }
        if (fillModel != null && depth == 0) {
            throw new UserInputException("--fill-model fills the depth: give -d too");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int needed = depth + Math.max(promptTokens, generatedTokens);
        long activeBytes;
        try (TensorSource file = Models.source(modelOptions.path())) {
            activeBytes = ActiveWeights.of(file).perToken();
            if (!spec.commandLine().getParseResult().hasMatchedOption("--ctx-size")) {
                Metadata metadata = file.metadata();
                int modelContext = metadata.getInt(metadata.getString("general.architecture", "") + ".context_length", Integer.MAX_VALUE);
                if (needed > modelContext) {
                    throw new UserInputException("-d " + depth + " and a test of " + (needed - depth) + " tokens need a context of "
                            + needed + ", more than the model's " + modelContext);
                }
                modelOptions.contextSize = needed;
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        long loading = System.nanoTime();
        try (Model loaded = modelOptions.load(err); Session session = loaded.newSession()) {
            if (needed > session.contextSize()) {
                throw new UserInputException("a test of " + (needed - depth) + " tokens" + (depth > 0 ? " at depth " + depth : "")
                        + " does not fit in a context of " + session.contextSize() + " (raise -c)");
            }
            int firstToken = loaded.tokenizer().addsBos() ? loaded.tokenizer().bosToken() : -1;
            // on a cold file: the weights read in (load) and one token's forward pass (first token), untimed below
            double loadSeconds = (System.nanoTime() - loading) / 1e9;
            session.forward(new int[] {Math.max(firstToken, 0)}, 0, 1);
            double firstTokenSeconds = (System.nanoTime() - loading) / 1e9;
            session.truncate(0);
            err.printf("bench: loaded in %.2f s, the first token's logits after %.2f s%n", loadSeconds, firstTokenSeconds);
            err.flush();
            Benchmark benchmark = new Benchmark(session, firstToken, depth, Duration.ofMillis(warmUpMillis));
            report.put("model", loaded.path().toString());
            report.put("engine", loaded.engineName());
            report.put("threads", modelOptions.engine.threads.count);
            report.put("repetitions", repetitions);
            report.put("n_depth", depth);
            if (fillModel != null) {
                report.put("depth_filled_by", fillModel.toString());
            }
            report.put("active_bytes_per_token", activeBytes);
            report.put("load_s", loadSeconds);
            report.put("first_token_s", firstTokenSeconds);
            if (depth > 0) {
                fillDepth(benchmark, session, err);
            }
            if (!json) {
                out.printf("%-40s  %-11s  %7s  %16s  %20s%n", "model", "engine", "threads", "test", "tokens/s");
            }
            if (promptTokens > 0) {
                err.printf("bench: pp%d, %d repetitions...%n", promptTokens, repetitions);
                err.flush();
                record(benchmark.promptProcessing(promptTokens, repetitions), "pp", loaded, report, out);
            }
            if (generatedTokens > 0) {
                err.printf("bench: tg%d, %d repetitions...%n", generatedTokens, repetitions);
                err.flush();
                record(benchmark.generation(generatedTokens, repetitions), "tg", loaded, report, out);
            }
        }
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(report));
        }
        out.flush();
        return 0;
    }

    /** The depth tokens, by the model or by --fill-model's, with a progress bar on a terminal. */
    private void fillDepth(Benchmark benchmark, Session session, PrintWriter err) throws IOException {
        if (fillModel == null) {
            fillDepth(benchmark, session, "", err);
            return;
        }
        try (Model filler = modelOptions.loadAlso(fillModel, err); Session fillerSession = filler.newSession()) {
            fillDepth(benchmark, fillerSession, " by " + fillModel, err);
        } catch (IllegalArgumentException otherLayout) {
            throw new UserInputException(fillModel + ": " + otherLayout.getMessage());
        }
    }

    private void fillDepth(Benchmark benchmark, Session filler, String by, PrintWriter err) {
        err.printf("bench: filling the context with %d tokens%s (untimed)...%n", depth, by);
        err.flush();
        if (TerminalProgress.shown()) {
            try (ProgressBar bar = TerminalProgress.bar("fill", "tokens", 1, depth)) {
                benchmark.fillDepth(filler, bar::stepTo);
            }
        } else {
            benchmark.fillDepth(filler, done -> { });
        }
    }

    private void record(Benchmark.Result result, String key, Model loaded, Map<String, Object> report, PrintWriter out) {
        report.put(key + "_tokens", result.tokens());
        report.put(key + "_tps", result.mean());
        report.put(key + "_tps_stddev", result.standardDeviation());
        report.put(key + "_samples", result.tokensPerSecond());
        if (!json) {
            String name = loaded.path().getFileName().toString();
            out.printf("%-40s  %-11s  %7d  %16s  %11.2f ± %6.2f%n", name.length() > 40 ? "..." + name.substring(name.length() - 37) : name,
                    loaded.engineName(), modelOptions.engine.threads.count, result.test(), result.mean(), result.standardDeviation());
            out.flush();
        }
    }

    private int measureMemory() throws IOException {
        modelOptions.engine.threads.checked();
        if (repetitions < 1) {
            throw new UserInputException("-r must be 1 or more");
        }
        PrintWriter out = spec.commandLine().getOut();
        spec.commandLine().getErr().printf("bench: reading %s with %d threads, %d passes...%n",
                Units.bytes(MEMORY_REGION_BYTES), modelOptions.engine.threads.count, repetitions);
        spec.commandLine().getErr().flush();
        MemoryBandwidth.Result result = MemoryBandwidth.measure(MEMORY_REGION_BYTES, modelOptions.engine.threads.count, repetitions);
        if (json) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("threads", result.threads());
            report.put("memory_bytes", result.bytes());
            report.put("read_gbps", result.best() / 1e9);
            report.put("read_gbps_samples", Arrays.stream(result.bytesPerSecond()).map(speed -> speed / 1e9).toArray());
            out.println(new ObjectMapper().writeValueAsString(report));
        } else {
            out.printf("memory read bandwidth: %.2f GB/s (%d threads, best of %d passes over %s)%n",
                    result.best() / 1e9, result.threads(), repetitions, Units.bytes(result.bytes()));
        }
        out.flush();
        return 0;
    }
}
