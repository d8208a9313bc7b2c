package glmj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.generate.Benchmark;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Measures prompt processing (pp) and generation (tg) speed in tokens/s, as llama-bench does.",
            "After a warm-up, each of -r repetitions starts from an empty context and processes random tokens; the result is their mean and standard deviation."
        },
        footer = {"", "Examples:",
            "  glmj bench -m model.gguf -p 128 -n 32 -t 2",
            "  glmj bench -m model.gguf --json | jq .tg_tps"})
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", description = "Prompt tokens per pp run; 0 skips pp (default: ${DEFAULT-VALUE}).")
    int promptTokens = 512;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", description = "Tokens per tg run; 0 skips tg (default: ${DEFAULT-VALUE}).")
    int generatedTokens = 128;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", description = "Repetitions of each test (default: ${DEFAULT-VALUE}).")
    int repetitions = 5;

    @Option(names = "--json", description = "Print one JSON object (with pp_tps and tg_tps, the means) instead of a table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (promptTokens < 0 || generatedTokens < 0 || repetitions < 1 || promptTokens + generatedTokens == 0) {
            throw new UserInputException("-p and -n must be 0 or more and not both 0, -r 1 or more");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Object> report = new LinkedHashMap<>();
        try (ModelOptions.Loaded loaded = modelOptions.load(err)) {
            int needed = Math.max(promptTokens, generatedTokens);
            if (needed > loaded.model().contextSize()) {
                throw new UserInputException("a test of " + needed + " tokens does not fit in a context of "
                        + loaded.model().contextSize() + " (raise -c)");
            }
            int firstToken = loaded.tokenizer().addsBos() ? loaded.tokenizer().bosToken() : -1;
            Benchmark benchmark = new Benchmark(loaded.model(), firstToken);
            report.put("model", loaded.path().toString());
            report.put("engine", modelOptions.engine.name());
            report.put("threads", modelOptions.threads);
            report.put("repetitions", repetitions);
            if (!json) {
                out.printf("%-40s  %-6s  %7s  %8s  %20s%n", "model", "engine", "threads", "test", "tokens/s");
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

    private void record(Benchmark.Result result, String key, ModelOptions.Loaded loaded, Map<String, Object> report, PrintWriter out) {
        report.put(key + "_tokens", result.tokens());
        report.put(key + "_tps", result.mean());
        report.put(key + "_tps_stddev", result.standardDeviation());
        report.put(key + "_samples", result.tokensPerSecond());
        if (!json) {
            String name = loaded.path().getFileName().toString();
            out.printf("%-40s  %-6s  %7d  %8s  %11.2f ± %6.2f%n", name.length() > 40 ? "..." + name.substring(name.length() - 37) : name,
                    modelOptions.engine.name(), modelOptions.threads, result.test(), result.mean(), result.standardDeviation());
            out.flush();
        }
    }
}
