package glmj.testdata;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The command line that writes the models speed is measured on (run by {@code scripts/bench-model}): the bench model
 * ({@link BenchGlmDsa}) or GLM-5 at its real widths ({@link FullWidthGlmDsa}), into a file or the test models' cache,
 * printing the file's path.
 */
@Command(name = "bench-model", sortOptions = false, usageHelpWidth = 100,
        description = {
            "Writes a GLM-5 with random weights in a UD-Q2_K_XL-like mix, for speed measurements, and prints",
            "its path.",
            "",
            "  bench  GLM-5 scaled down to about 1.1 GB (n_embd 1024, 20 blocks, 64 experts); --small: 75 MB.",
            "  glm5   GLM-5's real widths (n_embd 6144, 64 heads, 256 experts, 154,880 tokens), --layers",
            "         blocks, written straight as quantized blocks: about a minute per 10 GB on two cores.",
            "",
            "Without -o the model is kept in the temporary directory and reused while the generator is",
            "unchanged. --checkpoint writes the bench model's weights as a Hugging Face FP8 checkpoint",
            "directory instead (about 2.8 GB), the reference 'glmj quality weights' compares it with.",
            "--cache-twin writes, for the glm5 model of the same --layers, --dense and --mtp, a narrow",
            "model with its KV cache (one head, tens of MB) that fills a context for it:",
            "'glmj bench --fill-model' reaches depth 131072 in minutes instead of hours.",
            ""},
        footer = {"", "Examples:",
            "  scripts/bench-model                                  # the bench model (minutes the first time)",
            "  scripts/bench-model --geometry glm5 --layers 4       # 3 dense + 1 MoE + the MTP block: 8.7 GB",
            "  scripts/bench-model --geometry glm5 --layers 4 --dense 2 -o /tmp/glm5.gguf   # 2 + 2: 11.7 GB",
            "  glmj bench -m \"$(scripts/bench-model --geometry glm5)\" -p 32 -n 8",
            "  glmj bench -m \"$(scripts/bench-model --geometry glm5)\" -p 0 -n 8 -d 131072 \\",
            "      --fill-model \"$(scripts/bench-model --geometry glm5 --cache-twin)\"",
            "  glmj quality weights --reference \"$(scripts/bench-model --checkpoint)\" -m \"$(scripts/bench-model)\""})
public final class BenchModels implements Callable<Integer> {
    /** What {@code --geometry} chooses. */
    enum Geometry { BENCH, GLM5 }

    @Option(names = "--geometry", paramLabel = "NAME", description = "bench (default) or glm5.", converter = GeometryConverter.class)
    Geometry geometry = Geometry.BENCH;

    @Option(names = "--small", description = "bench only: the same model at test size (n_embd 256, 3 blocks).")
    boolean small;

    @Option(names = "--checkpoint", description = "bench only: its weights as a Hugging Face FP8 checkpoint directory, not a GGUF.")
    boolean checkpoint;

    @Option(names = "--cache-twin", description = "glm5 only: the narrow model with the glm5 model's KV cache, not the model itself.")
    boolean cacheTwin;

    @Option(names = "--layers", paramLabel = "N", description = "glm5 only: trunk blocks (default 4; GLM-5 has 78).")
    Integer layers;

    @Option(names = "--dense", paramLabel = "N", description = "glm5 only: how many of them are dense, the first (default 3, at most N-1).")
    Integer dense;

    @Option(names = "--mtp", paramLabel = "N", description = "glm5 only: MTP blocks after the trunk, 0 or 1 (default 1, as GLM-5).")
    Integer mtp;

    @Option(names = "--seed", paramLabel = "N", description = "glm5 only: the seed the weights are drawn from (default 0).")
    Long seed;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write the model, replacing the file (default: the cached copy).")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--progress", negatable = true, description = "A progress bar with ETA on standard error (default: when run on a terminal).")
    Boolean progress;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    private BenchModels() {
    }

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command line: the model's path on {@code out}, messages on {@code err}; returns the exit code. */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine line = new CommandLine(new BenchModels()).setOut(out).setErr(err);
        line.setParameterExceptionHandler((e, arguments) -> {
            e.getCommandLine().getErr().println("bench-model: " + e.getMessage() + " (see --help)");
            return 2;
        });
        line.setExecutionExceptionHandler((e, command, parsed) -> {
            command.getErr().println("bench-model: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return e instanceof IllegalArgumentException ? 2 : 1;
        });
        return line.execute(args);
    }

    @Override
    public Integer call() throws IOException {
        boolean glm5 = geometry == Geometry.GLM5;
        if (glm5 && (small || checkpoint)) {
            throw new IllegalArgumentException((small ? "--small" : "--checkpoint") + " is for the bench geometry");
        }
        if (!glm5 && (layers != null || dense != null || mtp != null || seed != null || cacheTwin)) {
            throw new IllegalArgumentException("--layers, --dense, --mtp, --seed and --cache-twin are for the glm5 geometry");
        }
        if (cacheTwin && seed != null) {
            throw new IllegalArgumentException("--seed is for the glm5 model, not its cache twin");
        }
        FullWidthGlmDsa.Layers blocks = null;
        if (glm5) {
            FullWidthGlmDsa.Layers defaults = FullWidthGlmDsa.Layers.of(layers == null ? 4 : layers);
            blocks = new FullWidthGlmDsa.Layers(defaults.blocks(), dense == null ? defaults.denseBlocks() : dense,
                    mtp == null ? defaults.mtpBlocks() : mtp);
        }
        Path target = output == null ? null : output.toAbsolutePath();
        if (target != null && !Files.isDirectory(target.getParent())) {
            throw new IllegalArgumentException(target.getParent() + ": no such directory");
        }
        BenchGlmDsa.Scale scale = small ? BenchGlmDsa.Scale.SMALL : BenchGlmDsa.Scale.FULL;
        if (checkpoint) {
            return writeCheckpoint(target, scale);
        }
        if (glm5 && !cacheTwin) {
            long needed = FullWidthGlmDsa.tensorBytes(blocks);
            Path directory = target != null ? target.getParent() : TestModels.cacheDirectory().getParent();
            long free = Files.getFileStore(directory).getUsableSpace();
            if (free < needed && (target != null || !Files.exists(cachedPath(blocks)))) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: the model needs %.1f GB, the disk has %.1f GB free",
                        directory, needed / 1e9, free / 1e9));
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        String label = glm5 ? (cacheTwin ? "cache twin of GLM-5, " : "GLM-5, ") + blocks.blocks() + " blocks"
                : "bench model" + (small ? " (small)" : "");
        try (Progress bar = new Progress(label, progress != null ? progress : onTerminal())) {
            long start = System.nanoTime();
            Path model;
            long chosenSeed = seed == null ? 0 : seed;
            if (cacheTwin && target == null) {
                model = TestModels.cacheTwin(blocks, bar);
            } else if (cacheTwin) {
                FullWidthGlmDsa.writeCacheTwin(target, blocks, bar);
                model = target;
            } else if (target == null) {
                model = glm5 ? TestModels.fullWidthModel(blocks, chosenSeed, bar) : TestModels.benchModel(scale, bar);
            } else if (glm5) {
                FullWidthGlmDsa.write(target, blocks, chosenSeed, bar);
                model = target;
            } else {
                BenchGlmDsa.write(target, scale, bar);
                model = target;
            }
            bar.close();
            if (bar.started()) {
                err.printf(Locale.ROOT, "bench-model: wrote %s (%.2f GB) in %.0f s%n", model, Files.size(model) / 1e9,
                        (System.nanoTime() - start) / 1e9);
                err.flush();
            }
            spec.commandLine().getOut().println(model);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    /** The bench model's weights as an FP8 checkpoint directory: the cached one, or a new one at {@code target}. */
    private int writeCheckpoint(Path target, BenchGlmDsa.Scale scale) throws IOException {
        if (target != null && Files.exists(target)) {
            throw new IllegalArgumentException(target + " exists; --checkpoint writes a new directory");
        }
        PrintWriter err = spec.commandLine().getErr();
        Path directory = target != null ? target : TestModels.cacheDirectory().resolve(TestModels.benchCheckpointName(scale));
        if (!Files.exists(directory)) {
            err.println("bench-model: writing the bench model's FP8 checkpoint (a few minutes)...");
            err.flush();
        }
        if (target == null) {
            directory = TestModels.benchCheckpoint(scale);
        } else {
            BenchGlmDsa.writeCheckpoint(target, scale);
        }
        spec.commandLine().getOut().println(directory);
        spec.commandLine().getOut().flush();
        return 0;
    }

    private Path cachedPath(FullWidthGlmDsa.Layers blocks) {
        return TestModels.cacheDirectory().resolve(TestModels.fullWidthName(blocks, seed == null ? 0 : seed));
    }

    private static boolean onTerminal() {
        return System.console() != null && System.console().isTerminal();
    }

    /** Progress as a bar with speed and ETA on standard error, started when the first bytes are made; or nothing. */
    private static final class Progress implements GlmDsaGenerator.Progress, AutoCloseable {
        private final String label;
        private final boolean shown;
        private ProgressBar bar;
        private boolean started;

        Progress(String label, boolean shown) {
            this.label = label;
            this.shown = shown;
        }

        @Override
        public void madeBytes(long done, long total) {
            started = true;
            if (shown && bar == null) {
                bar = new ProgressBarBuilder().setTaskName(label).setInitialMax(total / 1_000_000).setUnit(" MB", 1)
                        .showSpeed().setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
            }
            if (bar != null) {
                bar.stepTo(done / 1_000_000);
            }
        }

        boolean started() {
            return started;
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }

    /** Reads {@code --geometry} case-insensitively, naming the choices when it is none of them. */
    static final class GeometryConverter implements CommandLine.ITypeConverter<Geometry> {
        @Override
        public Geometry convert(String value) {
            try {
                return Geometry.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a geometry: bench or glm5");
            }
        }
    }
}
