package glmj.bench;

import glmj.tensor.GGMLType;
import glmj.tensor.quantize.Quantizer;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs {@link QuantizeBench} for each type, glmj's quantizers and then ggml's in the same run, and prints one markdown
 * table on stdout: MB/s of F32 input for each type, with and without importance, on one thread and on all, and
 * glmj's speed over ggml's: scripts/bench-quantize.
 *
 * <p>Takes JMH's options ({@code -wi}, {@code -i}, {@code -r}, {@code -p type=Q2_K,IQ2_XXS}, {@code -p threads=all},
 * {@code -p importance=true}, {@code -p rows=..}, {@code -p cols=..}); JMH's full report goes to {@code -o} (default
 * {@code bench-quantize.log}); stderr gets a line per type as it finishes.
 */
public final class QuantizeTable {

    private QuantizeTable() {
    }

    public static void main(String[] args) throws IOException, RunnerException {
        CommandLineOptions commandLine;
        try {
            commandLine = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("bench-quantize: " + e.getMessage());
            System.exit(2);
            return;
        }
        List<String> types = commandLine.getParameter("type").hasValue()
                ? new ArrayList<>(commandLine.getParameter("type").get())
                : benchmarkedTypes();
        List<String> threads = commandLine.getParameter("threads").hasValue()
                ? new ArrayList<>(commandLine.getParameter("threads").get()) : List.of("1", "all");
        List<String> importanceChoices = commandLine.getParameter("importance").hasValue()
                ? new ArrayList<>(commandLine.getParameter("importance").get()) : List.of("true", "false");
        Path log = Path.of(commandLine.getOutput().orElse("bench-quantize.log")).toAbsolutePath();
        Files.createDirectories(log.getParent());
        System.out.println("| type | importance | threads | glmj MB/s | ggml MB/s | glmj / ggml |");
        System.out.println("| --- | --- | --- | ---: | ---: | ---: |");
        try (PrintStream logStream = new PrintStream(new FileOutputStream(log.toFile()), true)) {
            for (String type : types) {
                List<String> importance = new ArrayList<>(importanceChoices);
                if (Quantizer.requiresImportance(GGMLType.valueOf(type))) {
                    importance.remove("false");
                }
                if (importance.isEmpty()) {
                    continue;
                }
                ChainedOptionsBuilder options = new OptionsBuilder().parent(commandLine)
                        .include(QuantizeBench.class.getName() + ".quantize")
                        .param("type", type)
                        .param("quantizer", "glmj", "ggml")
                        .param("importance", importance.toArray(String[]::new))
                        .param("threads", threads.toArray(String[]::new));
                var results = new Runner(options.build(), OutputFormatFactory.createFormatInstance(logStream, VerboseMode.NORMAL)).run();
                Map<String, double[]> rows = new LinkedHashMap<>();
                for (RunResult result : results) {
                    var params = result.getParams();
                    String key = params.getParam("importance") + " | " + params.getParam("threads");
                    double mbPerSecond = result.getSecondaryResults().get("inputMB").getScore();
                    rows.computeIfAbsent(key, k -> new double[2])[params.getParam("quantizer").equals("glmj") ? 0 : 1] = mbPerSecond;
                }
                for (var row : rows.entrySet()) {
                    double[] speeds = row.getValue();
                    String line = String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.2f |", type, row.getKey(),
                            speeds[0], speeds[1], speeds[0] / speeds[1]);
                    System.out.println(line);
                    System.err.println("bench-quantize: " + line);
                }
            }
        }
    }

    /** The types {@link QuantizeBench#type} lists. */
    private static List<String> benchmarkedTypes() {
        try {
            return List.of(QuantizeBench.class.getField("type").getAnnotation(org.openjdk.jmh.annotations.Param.class).value());
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e);
        }
    }
}
