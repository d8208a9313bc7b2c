package glmj.cli;

import glmj.engine.Model;
import glmj.engine.Models;
import glmj.generate.ChunkLogits;
import glmj.gguf.TensorSource;
import glmj.quality.Comparison;
import glmj.quality.Corpus;
import glmj.quality.KldBaseReader;
import glmj.quality.KldSummary;
import glmj.quality.LlamaPerplexityReport;
import glmj.quality.ModelQuality;
import glmj.quality.QualityGates;
import glmj.quality.WeightReport;
import java.io.FilterWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        description = {
            "Runs each model over the chunks of a KL-divergence base (from 'glmj quality reference' or"
                + " 'llama-perplexity --kl-divergence-base') and measures it against the reference's stored predictions, with"
                + " llama-perplexity --kl-divergence's definitions: perplexity, ln(PPL(Q)/PPL(base)), KL divergence per"
                + " token (mean with its standard error, median, p90, p99, p99.9, max), how often the top token is the"
                + " same, delta-p (the model's probability of the right next token less the reference's: RMS and"
                + " percentiles); and bits per weight and size.",
            "Output: a table (or --json, --csv; with a FILE they go there and the table to stdout), --details for"
                + " llama-perplexity's own report per model, --plot for a picture of KLD and PPL ratio against bits per"
                + " weight (with --weights, also each layer's weight error from 'glmj quality weights --json').",
            "Gates for CI: --max-kld, --max-ppl-ratio, --min-top1, and --baseline (an earlier --json on the same base:"
                + " a model whose mean KLD, ln(PPL ratio), same-top rate or RMS delta-p is worse by more than the two runs'"
                + " combined standard error fails). Each failure is one line on stderr and the exit code is 1."
        },
        footer = {"", "Examples:",
            "  glmj quality compare --reference glm5.kld -m GLM-5-Q4_K_M.gguf -m GLM-5-UD-Q2_K_XL-00001-of-00006.gguf",
            "  glmj quality compare --reference glm5.kld -m Q2_K.gguf --max-kld 0.3 --min-top1 0.8 --baseline last.json --json now.json",
            "  glmj quality compare --reference glm5.kld -m a.gguf -m b.gguf --plot quality.svg --weights weights.json"})
final class QualityCompareCommand implements Callable<Integer> {
    /** The exit code when a gate fails. */
    static final int EXIT_GATE_FAILED = 1;

    @Spec
    CommandSpec spec;

    @Mixin
    QualityEngineOptions engineOptions;

    @Option(names = {"--reference", "--kl-divergence-base"}, required = true, paramLabel = "FILE", description = "The KL-divergence base.")
    Path reference;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "A model to measure (GGUF, any shard of a split set, or a checkpoint directory); repeat for more.")
    List<Path> models;

    @Option(names = "--json", arity = "0..1", fallbackValue = "-", paramLabel = "FILE", description = "Write the report as JSON, to FILE or (without one) to stdout instead of the table.")
    String json;

    @Option(names = "--csv", arity = "0..1", fallbackValue = "-", paramLabel = "FILE", description = "Write one CSV line per model, to FILE or (without one) to stdout instead of the table.")
    String csv;

    @Option(names = "--details", description = "Also print each model's statistics as llama-perplexity --kl-divergence prints them (to stderr).")
    boolean details;

    @Option(names = "--plot", paramLabel = "FILE", description = "Draw mean KLD and PPL ratio against bits per weight, as FILE.png or FILE.svg.")
    Path plot;

    @Option(names = "--weights", paramLabel = "FILE", description = "With --plot: also draw each layer's weight error from this 'glmj quality weights --json' report.")
    Path weights;

    @Option(names = "--max-kld", paramLabel = "X", description = "Fail a model whose mean KL divergence is above X.")
    Double maxKld;

    @Option(names = "--max-ppl-ratio", paramLabel = "X", description = "Fail a model whose PPL(Q)/PPL(base) is above X.")
    Double maxPplRatio;

    @Option(names = "--min-top1", paramLabel = "X", description = "Fail a model that puts the reference's top token on top less often than X (a fraction, 0 to 1).")
    Double minTop1;

    @Option(names = "--baseline", paramLabel = "FILE", description = "Fail a model that is worse than in this earlier --json report on the same base.")
    Path baseline;

    /** What ran the models, as {@code glmj bench} names it. */
    private String engineName = "";

    @Override
    public Integer call() throws IOException {
        if (minTop1 != null && (minTop1 < 0 || minTop1 > 1)) {
            throw new UserInputException("--min-top1 " + minTop1 + ": a fraction from 0 to 1 (0.9 is 90%)");
        }
        if (weights != null && plot == null) {
            throw new UserInputException("--weights draws into the --plot picture: give --plot FILE too");
        }
        if (plot != null) {
            WeightErrorPlot.Format.of(plot);
        }
        WeightReport layerErrors = weights == null ? null : WeightReport.readJson(weights);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (KldBaseReader base = KldBaseReader.open(reference)) {
            CompareReport.Reference measured = CompareReport.Reference.of(base);
            List<ModelQuality> before = List.of();
            if (baseline != null) {
                CompareReport old = CompareReport.readJson(baseline);
                if (!old.reference().sameMeasurement(measured)) {
                    throw new UserInputException("--baseline " + baseline + " was measured on another base (" + old.reference().file()
                            + ": other tokens, -c or chunks) than " + reference);
                }
                before = old.models();
            }
            if (base.layout().scoredTokens() < KldSummary.LLAMA_MINIMUM_TOKENS) {
                err.printf("compare: %s scores %d tokens; llama-perplexity prints no statistics under %d%n", reference,
                        base.layout().scoredTokens(), KldSummary.LLAMA_MINIMUM_TOKENS);
            }
            List<ModelQuality> results = new ArrayList<>();
            for (Path model : models) {
                ModelQuality quality = measure(model, base, err);
                results.add(quality);
                if (details) {
                    err.println(model + ":");
                    err.print(LlamaPerplexityReport.of(quality.statistics()));
                    err.println();
                }
            }
            QualityGates gates = new QualityGates(maxKld, maxPplRatio, minTop1, before);
            CompareReport report = new CompareReport(measured, engineName, results, gates.failures(results));
            write(report, out);
            if (plot != null) {
                QualityPlot.write(plot, results, layerErrors);
                err.println("plot: " + plot);
            }
            for (String missing : baseline == null ? List.<String>of() : gates.notInBaseline(results)) {
                err.println("compare: " + missing + " is not in the baseline " + baseline);
            }
            report.failures().forEach(failure -> err.println("FAIL " + failure));
            out.flush();
            err.flush();
            return report.failures().isEmpty() ? 0 : EXIT_GATE_FAILED;
        }
    }

    private ModelQuality measure(Path model, KldBaseReader base, PrintWriter err) throws IOException {
        int context = base.layout().contextSize();
        try (Model loaded = engineOptions.open(model, context, err);
             ChunkLogits engine = loaded.chunkLogits(context);
             ChunkProgressBar bar = ChunkProgressBar.open(model.getFileName().toString(), context)) {
            engineName = loaded.engineName();
            if (engine.vocabularySize() != base.layout().vocabularySize()) {
                throw new UserInputException(model + " has a vocabulary of " + engine.vocabularySize() + " tokens, "
                        + reference + " one of " + base.layout().vocabularySize() + ": not the same model family");
            }
            ModelInfo.TypeTotal size;
            try (TensorSource tensors = Models.source(model)) {
                size = ModelInfo.TypeTotal.of("all", tensors.tensors());
            }
            Comparison.Result result = Comparison.run(engine, base, Corpus.evaluationTokens(base.tokens(), context, loaded.tokenizer()),
                    engineOptions.threads(), bar.chunks());
            return new ModelQuality(model.getFileName().toString(), model.toString(), size.bytes(), size.bitsPerWeight(),
                    result.tokensPerSecond(), result.statistics().summary());
        }
    }

    /** The table to stdout unless JSON or CSV go there; JSON and CSV to their files. */
    private void write(CompareReport report, PrintWriter out) throws IOException {
        boolean tableOnStdout = !"-".equals(json) && !"-".equals(csv);
        if (tableOnStdout) {
            report.writeTable(out);
        }
        if (json != null) {
            try (Writer writer = open(json, out)) {
                report.writeJson(writer);
                writer.write("\n");
            }
        }
        if (csv != null) {
            try (Writer writer = open(csv, out)) {
                report.writeCsv(writer);
            }
        }
    }

    /** {@code target} ("-": stdout, which stays open) for writing. */
    private static Writer open(String target, PrintWriter out) throws IOException {
        if (target.equals("-")) {
            return new FilterWriter(out) {
                @Override
                public void close() throws IOException {
                    flush();
                }
            };
        }
        return Files.newBufferedWriter(Path.of(target), StandardCharsets.UTF_8);
    }
}
