package glmj.bench;

import glmj.tensor.GGMLType;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link MemoryReadBench} and {@link KernelBench} for every weight type the kernels multiply (decode on one
 * thread and on all, prefill on all), on glmj's kernels and then on ggml's in the same run, and prints the results as
 * one markdown table on stdout: scripts/bench-kernels.
 *
 * <p>Takes JMH's own options ({@code -wi}, {@code -i}, {@code -r}, {@code -f}, {@code -p type=Q4_K,Q8_0},
 * {@code -p footprintMiB=0}, {@code -p kernels=vector}, ...) but picks the benchmarks and the {@code threads} itself. JMH's full report goes to the
 * file named by {@code -o} (default {@code bench-kernels.log}); stderr gets a line per type as it finishes.
 */
public final class KernelTable {
    private static final String WEIGHT_GB = "weightGB";

    private final CommandLineOptions commandLine;
    private final OutputFormat report;
    private final String allThreads;
    private final boolean multiThreaded;
    private final double startLoad = loadAverage();

    private KernelTable(CommandLineOptions commandLine, OutputFormat report) {
        this.commandLine = commandLine;
        this.report = report;
        int processors = Runtime.getRuntime().availableProcessors();
        this.allThreads = Integer.toString(processors);
        this.multiThreaded = processors > 1;
    }

    public static void main(String[] args) throws IOException, RunnerException {
        CommandLineOptions commandLine;
        try {
            commandLine = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("bench-kernels: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (!commandLine.getIncludes().isEmpty()) {
            System.err.println("bench-kernels: picks its benchmarks itself; for a selection run the jar: java -jar benchmarks.jar "
                    + String.join(" ", commandLine.getIncludes()));
            System.exit(2);
        }
        List<GGMLType> types = new ArrayList<>();
        if (commandLine.getParameter("type").hasValue()) {
            for (String name : commandLine.getParameter("type").get()) {
                types.add(GGMLType.valueOf(name));
            }
        } else {
            types.addAll(BenchWeights.benchmarkable());
        }
        Path log = Path.of(commandLine.getOutput().orElse("bench-kernels.log")).toAbsolutePath();
        Files.createDirectories(log.getParent());
        try (PrintStream logStream = new PrintStream(new FileOutputStream(log.toFile()), true)) {
            KernelTable table = new KernelTable(commandLine, OutputFormatFactory.createFormatInstance(logStream,
                    commandLine.verbosity().orElse(VerboseMode.NORMAL)));
            System.err.println("bench-kernels: " + types.size() + " weight types; JMH's report goes to " + log);
            table.run(types);
        }
    }

    private void run(List<GGMLType> types) throws RunnerException {
        Row read = new Row("memory read (reference)", Double.NaN);
        for (RunResult result : run("MemoryReadBench.read", threadCounts())) {
            read.decode(result);
        }
        progress(read);
        List<Row> rows = new ArrayList<>(List.of(read));
        for (GGMLType type : types) {
            for (String kernels : kernels()) {
                Row row = new Row(type.name() + (kernels.equals("vector") ? "" : " (" + kernels + ")"), type.bitsPerWeight());
                for (RunResult result : run("KernelBench.decode", threadCounts(), "type", type.name(), "kernels", kernels)) {
                    row.decode(result);
                }
                for (RunResult result : run("KernelBench.prefill", new String[] {allThreads}, "type", type.name(), "kernels", kernels)) {
                    row.prefill(result);
                }
                progress(row);
                rows.add(row);
            }
        }
        print(rows);
    }

    /** The kernels to measure: {@code -p kernels=...}, or glmj's own and then ggml's, for the ratio. */
    private List<String> kernels() {
        return commandLine.getParameter("kernels").hasValue() ? List.copyOf(commandLine.getParameter("kernels").get())
                : List.of("vector", "ggml");
    }

    private String[] threadCounts() {
        return multiThreaded ? new String[] {"1", allThreads} : new String[] {"1"};
    }

    private Collection<RunResult> run(String benchmark, String[] threads, String... params) throws RunnerException {
        ChainedOptionsBuilder options = new OptionsBuilder().parent(commandLine)
                .include("^" + KernelTable.class.getPackageName().replace(".", "\\.") + "\\." + benchmark.replace(".", "\\.") + "$")
                .mode(Mode.Throughput)
                .timeUnit(TimeUnit.SECONDS)
                .param("threads", threads);
        for (int i = 0; i < params.length; i += 2) {
            options.param(params[i], params[i + 1]);
        }
        return new Runner(options.build(), report).run();
    }

    private String setting(String param, String fallback) {
        return commandLine.getParameter(param).hasValue() ? String.join(",", commandLine.getParameter(param).get()) : fallback;
    }

    private void progress(Row row) {
        System.err.printf(Locale.ROOT, "%-24s %s GB/s (1 thread)%s%s%n", row.name, number(row.decode1),
                multiThreaded ? ", " + number(row.decodeN) + " GB/s (" + allThreads + " threads)" : "",
                row.prefillTokens == null ? "" : ", prefill " + number(row.prefillTokens) + " tokens/s");
    }

    private void print(List<Row> rows) {
        String tokens = setting("prefillTokens", "64");
        String n = allThreads + (multiThreaded ? " threads" : " thread");
        System.out.printf(Locale.ROOT, "%s x %s weights (rows x cols), cycling through %s MiB of copies; prefill = %s tokens; "
                        + "mean ± 99.9%% CI over JMH iterations; %s, %d processors, JDK %s; load average %.1f at the start, "
                        + "%.1f at the end%n%n",
                setting("rows", "4096"), setting("cols", "4096"), setting("footprintMiB", "1024"), tokens, cpu(),
                Runtime.getRuntime().availableProcessors(), Runtime.version(), startLoad, loadAverage());
        System.out.println("| type | bits/weight | decode GB/s, 1 thread | decode GB/s, " + n + " | prefill tokens/s, " + n
                + " |");
        System.out.println("| --- | ---: | ---: | ---: | ---: |");
        for (Row row : rows) {
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", row.name,
                    Double.isNaN(row.bits) ? "" : String.format(Locale.ROOT, "%.3f", row.bits).replaceAll("0+$", "").replaceAll("\\.$", ""),
                    withError(row.decode1), withError(row.decodeN), withError(row.prefillTokens));
        }
    }

    /** The system's load average over the last minute: other work competing for the cores. */
    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static String cpu() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException notLinux) {
            // fall through
        }
        return System.getProperty("os.arch");
    }

    private static String number(Score score) {
        return score == null ? "—" : number(score.value);
    }

    private static String number(double value) {
        return String.format(Locale.ROOT, value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : "%.2f", value);
    }

    private static String withError(Score score) {
        if (score == null) {
            return "—";
        }
        return Double.isNaN(score.error) ? number(score) : number(score) + " ± " + number(score.error);
    }

    /** A JMH score and its error (99.9% confidence interval half-width; NaN with too few iterations). */
    private record Score(double value, double error) {
        static Score of(Result<?> result, double scale) {
            return result == null ? null : new Score(result.getScore() * scale, result.getScoreError() * scale);
        }
    }

    /** One line of the table; a missing result (a failed benchmark) stays null. */
    private static final class Row {
        final String name;
        final double bits;
        Score decode1;
        Score decodeN;
        Score prefillTokens;

        Row(String name, double bits) {
            this.name = name;
            this.bits = bits;
        }

        void decode(RunResult result) {
            Score gb = Score.of(result.getSecondaryResults().get(WEIGHT_GB), 1);
            if (result.getParams().getParam("threads").equals("1")) {
                decode1 = gb;
            } else {
                decodeN = gb;
            }
        }

        void prefill(RunResult result) {
            int tokens = Integer.parseInt(result.getParams().getParam("prefillTokens"));
            prefillTokens = Score.of(result.getPrimaryResult(), tokens);
        }
    }
}
