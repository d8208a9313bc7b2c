package glmj.cli;

import glmj.convert.GlmDsaTensorMap;
import glmj.gguf.GGUFFile;
import glmj.hf.HfCheckpoint;
import glmj.quality.ModelWeightErrors;
import glmj.quality.WeightComparison;
import glmj.quality.WeightReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "weights",
        mixinStandardHelpOptions = true,
        description = {
            "Compares each model's weights with the reference checkpoint's: every tensor dequantized as ggml does, value for value"
                + " against the checkpoint's (FP8 times its block scales, or BF16), as relative RMS error ||q - r|| / ||r||,"
                + " cosine, signal-to-noise ratio in dB and largest |q - r|; per tensor and aggregated per kind (attention,"
                + " indexer, dense FFN, router, routed experts gate/up/down, shared expert, MTP, norms, embeddings, output),"
                + " per layer, and in all, every value weighing alike.",
            "The reference is a GLM-5 Hugging Face checkpoint directory (config.json, model.safetensors or shards with"
                + " model.safetensors.index.json), read straight from the mapped files, the model a GGUF or any shard of a"
                + " split set. Tensors are streamed on every core (-t), each chunk of the reference's rows read once and"
                + " compared with every model's, so several models cost one pass over the checkpoint; the GB/s read from"
                + " all files is printed, to compare with 'glmj bench --memory'. A model lacking the reference's MTP layer"
                + " is compared without it; any other mismatch of tensors or shapes is an error.",
            "Output: a table per model (or --json, --csv), and with --plot a picture of each layer's error per kind and model."
        },
        footer = {"", "JSON fields (--json, the form other glmj commands read):",
            "  {format: \"glmj-quality-weights\", version: 1, reference,",
            "   models: [{model, bytes (of the model's tensors), bits_per_weight, bytes_read, seconds, gb_per_s,",
            "             total: STATS, kinds: {KIND: STATS}, layers: [{layer, STATS..., kinds: {KIND: STATS}}],",
            "             tensors: [{name, type, kind, layer, STATS..., sums: {reference_squares, test_squares, products,",
            "                        difference_squares}}], skipped: [reference tensors the model lacks]}]}",
            "  STATS = values, rel_rms, cosine, snr_db (null when identical), max_abs; layer -1 is the tensors outside the",
            "  blocks (embeddings, output norm and head); bytes_read, seconds and gb_per_s are the whole pass's.",
            "",
            "Examples:",
            "  glmj quality weights --reference GLM-5-FP8 -m GLM-5-UD-Q2_K_XL-00001-of-00006.gguf -m GLM-5-Q4_K_M-00001-of-00010.gguf",
            "  glmj quality weights --reference GLM-5-FP8 -m a.gguf --json > weights.json",
            "  glmj quality weights --reference GLM-5-FP8 -m a.gguf -m b.gguf --plot weights.svg"})
final class QualityWeightsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--reference", required = true, paramLabel = "DIR",
            description = "The reference: a Hugging Face checkpoint directory of GLM-5 (FP8 as GLM-5-FP8, or BF16).")
    Path reference;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE",
            description = "A GGUF to measure (any shard of a split set); repeat for several.")
    List<Path> models;

    @ArgGroup(exclusive = true)
    Format format;

    static final class Format {
        @Option(names = "--json", description = "Print one JSON report instead of the table (fields below).")
        boolean json;

        @Option(names = "--csv", description = "Print one CSV line per tensor and model instead of the table.")
        boolean csv;
    }

    @Option(names = "--plot", paramLabel = "FILE", description = "Also draw each layer's relative RMS error per kind and model, as FILE.png or FILE.svg.")
    Path plot;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws IOException {
        threads.checked();
        WeightErrorPlot.Format plotFormat = plot == null ? null : WeightErrorPlot.Format.of(plot);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<ModelWeightErrors> results;
        List<GGUFFile> files = new ArrayList<>();
        try (HfCheckpoint checkpoint = HfCheckpoint.open(reference)) {
            GlmDsaTensorMap map = GlmDsaTensorMap.of(checkpoint);
            for (Path model : models) {
                files.add(GGUFFile.open(model));
            }
            results = measure(map, files);
        } finally {
            for (GGUFFile file : files) {
                file.close();
            }
        }
        ModelWeightErrors pass = results.getFirst();
        int tensors = results.stream().mapToInt(r -> r.tensors().size()).sum();
        err.printf(Locale.ROOT, "%s: %d tensors compared, %.1f MB read in %.2f s, %.2f GB/s%n",
                models.size() == 1 ? models.getFirst() : models.size() + " models in one pass", tensors, pass.bytesRead() / 1e6,
                pass.seconds(), pass.bytesPerSecond() / 1e9);
        err.flush();
        WeightReport report = new WeightReport(reference, results);
        if (format != null && format.json) {
            report.writeJson(out);
            out.println();
        } else if (format != null && format.csv) {
            report.writeCsv(out);
        } else {
            report.writeTable(out);
        }
        out.flush();
        if (plot != null) {
            WeightErrorPlot.write(report, plot, plotFormat);
            err.println("plot: " + plot);
            err.flush();
        }
        return 0;
    }

    /** The models' errors, with a progress bar and ETA when stderr is a terminal. */
    private List<ModelWeightErrors> measure(GlmDsaTensorMap map, List<GGUFFile> files) {
        if (SystemTerminal.stderrWidth() == 0) {
            return WeightComparison.measure(map, reference, files, threads.count, WeightComparison.Progress.NONE);
        }
        String task = files.size() == 1 ? files.getFirst().shards().getFirst().getFileName().toString() : files.size() + " models";
        try (ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setUnit(" MB", 1_000_000)
                .showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .build()) {
            return WeightComparison.measure(map, reference, files, threads.count, (done, total) -> {
                bar.maxHint(total);
                bar.stepTo(done);
            });
        }
    }
}
