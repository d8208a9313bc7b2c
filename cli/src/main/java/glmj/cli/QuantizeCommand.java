package glmj.cli;

import glmj.engine.Units;
import glmj.gguf.GGUFWriter;
import glmj.gguf.Metadata;
import glmj.model.GlmDsaConfig;
import glmj.model.KvCache;
import glmj.quant.LayerLayout;
import glmj.quant.ModelSource;
import glmj.quant.ModelWriter;
import glmj.quant.QuantizationPlan;
import glmj.quant.QuantizeException;
import glmj.quant.Recipe;
import glmj.quant.Recipes;
import glmj.quant.SizeTarget;
import glmj.quant.imatrix.ImatrixFiles;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.tensor.GGMLType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "quantize",
        mixinStandardHelpOptions = true,
        description = {
            "Quantizes GLM-5 in one streamed pass: from the Hugging Face checkpoint (FP8 as GLM-5-FP8, or BF16) straight to a"
                + " glm-dsa GGUF that llama.cpp and glmj run, or from any glm-dsa GGUF (requantizing).",
            "A recipe says each tensor's type (--list-recipes, --print-recipe; docs/quantize.md): rules by tensor name and block,"
                + " with llama-quantize's fallbacks for rows that are not whole blocks and its choice of what stays F32. The"
                + " quantizers write what llama-quantize writes, byte for byte, with the importance matrix (--imatrix: llama.cpp's"
                + " GGUF or .dat file, or one from 'glmj imatrix') per expert as llama-quantize applies it.",
            "Before any work it prints what the file will hold (--dry-run: every tensor, and stops); then it reads a few"
                + " tensors at a time on every core, shows progress on a terminal, and writes through temporary files renamed"
                + " only when complete. --target-size chooses each tensor's type to fit a size with the least expected loss."
        },
        footer = {"", "Examples:",
            "  glmj quantize --from GLM-5-FP8 --recipe Q2_K_XL --imatrix imatrix.gguf -o GLM-5-Q2_K_XL.gguf --split-max-size 50G",
            "  glmj quantize --from GLM-5-FP8 --recipe Q4_K_M --dry-run",
            "  glmj quantize --from GLM-5-Q8_0-00001-of-00017.gguf --recipe Q3_K_XL -o GLM-5-Q3_K_XL.gguf",
            "  glmj quantize --from GLM-5-FP8 --recipe Q2_K_XL --imatrix imatrix.gguf --target-size 235G -o GLM-5-235G.gguf",
            "  glmj quantize --print-recipe Q2_K_XL > mine.recipe   # edit, then --recipe mine.recipe",
            "",
            "Sizes: 50G or 50GB are 50 * 1000^3 bytes (llama-gguf-split's G), 50GiB 50 * 1024^3."})
final class QuantizeCommand implements Callable<Integer> {
    /** Context sizes the resident memory is shown for: llama.cpp's and glmj's default. */
    private static final int DEFAULT_CONTEXT = 4096;

    @Spec
    CommandSpec spec;

    @Option(names = "--from", paramLabel = "DIR|FILE",
            description = "The model to quantize: a GLM-5 Hugging Face checkpoint directory, or a glm-dsa GGUF (any shard of a split set).")
    Path from;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "The GGUF to write; with --split-max-size the set FILE-00001-of-0000N.gguf ... (FILE less .gguf).")
    Path output;

    @Option(names = "--recipe", paramLabel = "NAME|FILE", description = "A built-in recipe's name (--list-recipes) or a recipe file.")
    String recipe;

    @Option(names = "--imatrix", paramLabel = "FILE",
            description = "An importance matrix (llama-imatrix's GGUF or legacy .dat, or glmj imatrix's): needed by IQ1/IQ2/IQ3_XXS types, better for all.")
    Path imatrix;

    @Option(names = "--split-max-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Write a split set of files of at most SIZE of tensors each, as llama-gguf-split --split-max-size does.")
    Long splitMaxSize;

    @Option(names = "--target-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Choose every measured tensor's type to fit the file in SIZE with the least expected loss (needs --imatrix).")
    Long targetSize;

    @Option(names = "--dry-run", description = "Print every tensor's type, the size, bits per weight and resident memory; write nothing.")
    boolean dryRun;

    @Option(names = "--name", paramLabel = "TEXT", description = "general.name of the result (default: the checkpoint directory's name, or the GGUF's).")
    String name;

    @Option(names = {"-f", "--force"}, description = "Overwrite output files that exist.")
    boolean force;

    @Option(names = "--list-recipes", description = "List the built-in recipes and exit.")
    boolean listRecipes;

    @Option(names = "--print-recipe", paramLabel = "NAME", description = "Print a recipe's text (to copy and edit) and exit.")
    String printRecipe;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (listRecipes) {
            listRecipes(out);
            return 0;
        }
        if (printRecipe != null) {
            out.print(Recipes.resolve(printRecipe).text());
            out.flush();
            return 0;
        }
        checkOptions();
        Recipe chosen = Recipes.resolve(recipe);
        ImportanceMatrix importance = imatrix == null ? null : ImatrixFiles.read(imatrix);
        try (ModelSource source = ModelSource.open(from, name)) {
            Metadata metadata = source.metadata(chosen.fileType()).metadata(source.path());
            QuantizationPlan plan = QuantizationPlan.of(chosen, source.tensors(), LayerLayout.of(metadata));
            if (importance != null || !dryRun) {
                plan.checkImportance(importance, imatrix == null ? null : imatrix.toString());
            }
            long maxShard = splitMaxSize == null ? 0 : splitMaxSize;
            if (targetSize != null) {
                plan = fitTo(source, plan, importance, maxShard, out);
            }
            ModelWriter writer = new ModelWriter(source, plan, importance, imatrix == null ? null : imatrix.toString());
            if (dryRun) {
                printTensors(plan, out);
                printSummary(plan, writer, metadata, maxShard, out);
            } else {
                // an output that cannot be written is refused before the plan is printed, so its answer is one line
                List<Path> files = writer.files(output, maxShard);
                checkOutputs(files, writer, maxShard);
                printSummary(plan, writer, metadata, maxShard, out);
                write(writer, plan, files, maxShard, out);
            }
        }
        return 0;
    }

    /** The plan whose file fits --target-size with the least expected loss; says what it chose. */
    private QuantizationPlan fitTo(ModelSource source, QuantizationPlan plan, ImportanceMatrix importance, long maxShard,
                                   PrintWriter out) throws IOException {
        GGUFWriter recipeFile = new ModelWriter(source, plan, importance, imatrix.toString()).gguf();
        long size = maxShard > 0 ? recipeFile.shardSizes(maxShard).stream().mapToLong(Long::longValue).sum() : recipeFile.fileSize();
        long overhead = size - plan.tensorBytes();
        SizeTarget.Choice choice;
        if (TerminalProgress.shown()) {
            try (ProgressBar bar = TerminalProgress.bar("measure", "tensors", 1, 0)) {
                choice = SizeTarget.measure(plan, importance, threads.count, (done, total) -> {
                    bar.maxHint(total);
                    bar.stepTo(done);
                }).fit(overhead, targetSize);
            }
        } else {
            choice = SizeTarget.measure(plan, importance, threads.count, SizeTarget.Progress.NONE).fit(overhead, targetSize);
        }
        out.printf(Locale.ROOT, "--target-size %s: %d measured tensors' types chosen for the least expected loss, %.4g"
                        + " (the recipe's types: %.4g, %.3gx); the others keep the recipe's%n", Units.size(targetSize),
                choice.measuredTensors(), choice.loss(), choice.recipeLoss(), choice.loss() / choice.recipeLoss());
        return choice.plan();
    }

    private void checkOptions() {
        if (from == null) {
            throw new UserInputException("say what to quantize with --from DIR|FILE (see glmj quantize --help)");
        }
        if (recipe == null) {
            throw new UserInputException("choose a recipe with --recipe NAME|FILE (built in: " + String.join(", ", Recipes.BUILT_IN) + ")");
        }
        if (output == null && !dryRun) {
            throw new UserInputException("name the output with -o FILE, or look first with --dry-run");
        }
        threads.checked();
        if (targetSize != null && imatrix == null) {
            throw new UserInputException("--target-size needs --imatrix: the importance matrix says which errors matter");
        }
    }

    private static void listRecipes(PrintWriter out) {
        List<Recipe> recipes = Recipes.builtIn();
        int width = recipes.stream().mapToInt(r -> r.name().length()).max().orElse(0);
        for (Recipe r : recipes) {
            out.printf("%-" + width + "s  %-8s  %s%n", r.name(), r.fileType(), r.summary());
        }
        out.println();
        out.println("'glmj quantize --print-recipe NAME' shows a recipe's rules; docs/quantize.md explains them.");
        out.flush();
    }

    /** Every tensor's type, with the rule that chose it. */
    private static void printTensors(QuantizationPlan plan, PrintWriter out) {
        int nameWidth = plan.entries().stream().mapToInt(e -> e.name().length()).max().orElse(6);
        out.printf("%-" + nameWidth + "s  %-22s  %-8s  %12s  %s%n", "tensor", "shape", "type", "bytes", "why");
        for (QuantizationPlan.Entry e : plan.entries()) {
            String why = !e.quantized() ? "not quantized (llama-quantize leaves it)"
                    : e.rule() + (e.fellBack() ? "; rows of " + e.tensor().rowLength() + " are not whole " + e.requested().ggmlName
                    + " blocks" : "");
            out.printf("%-" + nameWidth + "s  %-22s  %-8s  %,12d  %s%n", e.name(), Arrays.toString(e.tensor().shape()),
                    e.type().ggmlName, e.bytes(), why);
        }
        out.println();
    }

    /** The totals per type, the file's size and bits per weight, the files, and the memory it takes to run. */
    private void printSummary(QuantizationPlan plan, ModelWriter writer, Metadata metadata, long maxShard, PrintWriter out) {
        Map<GGMLType, long[]> perType = new TreeMap<>();
        for (QuantizationPlan.Entry e : plan.entries()) {
            long[] totals = perType.computeIfAbsent(e.type(), t -> new long[3]);
            totals[0]++;
            totals[1] += e.tensor().elementCount();
            totals[2] += e.bytes();
        }
        out.printf("recipe %s (%s): %d tensors%n", plan.recipe().name(), plan.recipe().origin(), plan.entries().size());
        out.printf("  %-8s  %7s  %16s  %18s  %6s%n", "type", "tensors", "weights", "bytes", "share");
        perType.forEach((type, t) -> out.printf("  %-8s  %7d  %,16d  %,18d  %5.1f%%%n", type.ggmlName, t[0], t[1], t[2],
                100.0 * t[2] / plan.tensorBytes()));
        GGUFWriter gguf = writer.gguf();
        long size = maxShard > 0 ? gguf.shardSizes(maxShard).stream().mapToLong(Long::longValue).sum() : gguf.fileSize();
        out.printf("size: %s, %.2f bits per weight (%s weights)%n", Units.size(size), plan.bitsPerWeight(),
                Units.count(plan.elementCount()));
        if (output != null) {
            List<Path> files = writer.files(output, maxShard);
            out.printf("files: %s%s%n", files.getFirst(), files.size() > 1 ? " ... " + files.getLast().getFileName()
                    + " (" + files.size() + ")" : "");
        }
        int vocabulary = Math.toIntExact(plan.entries().stream().filter(e -> e.name().equals("token_embd.weight"))
                .findFirst().orElseThrow().tensor().shape()[1]);
        GlmDsaConfig config = GlmDsaConfig.from(metadata, vocabulary);
        long perToken = KvCache.bytes(config, 1);
        long weights = plan.residentBytes();
        long mtp = plan.tensorBytes() - weights;
        int context = Math.min(DEFAULT_CONTEXT, config.contextLength());
        String full = config.contextLength() > context ? ", " + Units.bytes(weights + perToken * config.contextLength())
                + " at the full " + config.contextLength() : "";
        out.printf("resident memory to run it: %s of weights%s and a KV cache of %s per token: %s in all at %d tokens%s%n",
                Units.bytes(weights), mtp > 0 ? " (the MTP block's " + Units.bytes(mtp) + " is never read)" : "",
                Units.bytes(perToken), Units.bytes(weights + perToken * context), context, full);
        if (!plan.needingImportance().isEmpty()) {
            out.printf("%d tensors need an importance matrix: %s%n", plan.needingImportance().size(),
                    imatrix != null ? imatrix : "none given, so writing it will need --imatrix");
        }
        out.flush();
    }

    private void write(ModelWriter writer, QuantizationPlan plan, List<Path> files, long maxShard, PrintWriter out) throws IOException {
        Thread cleanUp = new Thread(() -> files.forEach(f -> GGUFWriter.temporaryFile(f).toFile().delete()));
        Runtime.getRuntime().addShutdownHook(cleanUp);
        long start = System.nanoTime();
        try {
            if (TerminalProgress.shown()) {
                try (ProgressBar bar = TerminalProgress.bar("quantize", "MB", 1_000_000, plan.tensorBytes())) {
                    writer.write(output, maxShard, threads.count, (done, total) -> bar.stepTo(done));
                }
            } else {
                writer.write(output, maxShard, threads.count, ModelWriter.Progress.NONE);
            }
        } finally {
            Runtime.getRuntime().removeShutdownHook(cleanUp);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "wrote %s%s in %.1f s (%.1f MB/s written)%n", files.getFirst(),
                files.size() > 1 ? " ... " + files.getLast().getFileName() : "", seconds, plan.tensorBytes() / 1e6 / seconds);
        out.flush();
    }

    /** The outputs may be written: not the input, not there already (unless --force), room enough on their disk. */
    private void checkOutputs(List<Path> files, ModelWriter writer, long maxShard) throws IOException {
        for (Path file : files) {
            if (Files.exists(file) && Files.isSameFile(file, from)) {
                throw new UserInputException(file + " is the input: write the output to another file");
            }
            OutputFile.check(file, force);
        }
        Path directory = output.toAbsolutePath().getParent();
        long size = maxShard > 0 ? writer.gguf().shardSizes(maxShard).stream().mapToLong(Long::longValue).sum() : writer.gguf().fileSize();
        long free = Files.getFileStore(directory).getUsableSpace();
        if (free < size) {
            throw new UserInputException(directory + " has " + Units.size(free) + " free; the output needs " + Units.size(size));
        }
    }
}
