package glmj.cli;

import glmj.engine.Model;
import glmj.generate.ChunkLogits;
import glmj.generate.LayerByLayer;
import glmj.quality.Corpus;
import glmj.quality.KldBaseReader;
import glmj.quality.KldBaseWriter;
import glmj.quality.KldLayout;
import glmj.quality.Progress;
import glmj.quality.ReferenceRun;
import glmj.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "reference",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the reference model over a text and stores what it predicts at every scored position in llama.cpp's"
                + " KL-divergence base format, the file 'llama-perplexity --kl-divergence-base' writes and reads:"
                + " 'glmj quality compare' and llama-perplexity --kl-divergence then measure other models against it.",
            "As llama-perplexity: the text (less one trailing newline) is tokenized without a BOS for GLM-5 (with one"
                + " for tokenizers that add it), cut into --chunks chunks of -c tokens, each run from an empty context; the"
                + " second half of each chunk is scored. The file takes about 2 bytes per vocabulary entry and scored"
                + " token (310 KB a token for GLM-5).",
            "The reference may be the Hugging Face checkpoint itself (GLM-5-FP8's directory): glmj's engine runs its FP8"
                + " weights with their block scales as they are, computing what it would on the checkpoint's F32 conversion."
                + " A checkpoint runs layer by layer (--layer-by-layer; a GGUF runs chunk after chunk unless asked): every"
                + " chunk passes a layer before the next layer's weights are read, so a model larger than memory (GLM-5-FP8's"
                + " 750 GB) is read from disk once; each layer's weights leave memory when it is done. The chunks' hidden"
                + " states wait between layers in FILE.layers, about 8 bytes per token and embedding value (25 MB per"
                + " 512-token chunk of GLM-5), saved after each chunk of each layer.",
            "The file is written as FILE.partial and gets its name when complete; --resume continues an interrupted run"
                + " from the last chunk it finished (of a layer, or of the output). Progress and ETA show on a terminal;"
                + " the model's perplexity and tokens/s are printed at the end (compare them with 'glmj bench -p'.)"
        },
        footer = {"", "Examples:",
            "  glmj quality reference -m GLM-5-Q8_0.gguf -f moby-dick.txt -c 512 --chunks 100 -o glm5.kld",
            "  glmj quality reference -m GLM-5-FP8/ -f moby-dick.txt -c 512 --chunks 100 -o glm5-fp8.kld",
            "  glmj quality reference -m GLM-5-FP8/ -f moby-dick.txt -c 512 --chunks 100 -o glm5-fp8.kld --resume",
            "  scripts/fetch-corpus   # puts Moby-Dick into .deps/corpus/moby-dick.txt"})
final class QualityReferenceCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    QualityEngineOptions engineOptions;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "The reference model: a GGUF (any"
            + " shard of a split set) or a GLM-5 Hugging Face checkpoint directory.")
    Path model;

    @Option(names = {"-f", "--file", "--text"}, required = true, paramLabel = "FILE", description = "The text to run over (UTF-8).")
    Path text;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "Tokens per chunk (default: ${DEFAULT-VALUE}, as llama-perplexity).")
    int contextSize = 512;

    @Option(names = "--chunks", paramLabel = "K", description = "Chunks at most (default: as many as the text makes).")
    int chunks = -1;

    @Option(names = {"-o", "--kl-divergence-base"}, required = true, paramLabel = "FILE", description = "The base file to write.")
    Path output;

    @Option(names = "--resume", description = "Continue the interrupted run whose FILE.partial (and FILE.layers) are there (same"
            + " model, text, -c and --chunks).")
    boolean resume;

    @Option(names = "--layer-by-layer", negatable = true, description = "Run every chunk through a layer before the next"
            + " (default: for a checkpoint directory; --no-layer-by-layer runs chunk after chunk).")
    Boolean layerByLayer;

    @Override
    public Integer call() throws IOException {
        if (contextSize < 4 || chunks == 0 || chunks < -1) {
            throw new UserInputException("-c must be 4 or more and --chunks 1 or more (got -c " + contextSize + ", --chunks " + chunks + ")");
        }
        OutputFile.check(output, true);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Model reference = engineOptions.open(model, contextSize, err)) {
            Tokenizer tokenizer = reference.tokenizer();
            int[] all = Corpus.tokenize(tokenizer, Corpus.read(text));
            int chunkCount;
            try {
                chunkCount = Corpus.chunkCount(all.length, contextSize, chunks);
            } catch (IllegalArgumentException e) {
                throw new UserInputException(text + ": " + e.getMessage());
            }
            int[] tokens = Arrays.copyOf(all, chunkCount * contextSize);
            KldLayout layout = new KldLayout(contextSize, tokenizer.vocabularySize(), chunkCount);
            if (resume && !Files.exists(KldBaseWriter.partialOf(output)) && isComplete(output, layout, tokens)) {
                out.printf("%s is complete already: nothing to resume%n", output);
                return 0;
            }
            boolean layered = layerByLayer != null ? layerByLayer : Files.isDirectory(model);
            try (ChunkProgressBar bar = ChunkProgressBar.open("reference", contextSize);
                 ChunkLogits engine = chunkLogits(reference, layered, bar)) {
                if (engine.vocabularySize() != layout.vocabularySize()) {
                    throw new UserInputException(model + ": its tokenizer has " + layout.vocabularySize() + " tokens, its output "
                            + engine.vocabularySize());
                }
                run(engine, layout, tokens, tokenizer, bar, layered, reference.engineName() + (layered ? ", layer by layer" : ""));
            }
        }
        return 0;
    }

    private ChunkLogits chunkLogits(Model reference, boolean layered, ChunkProgressBar bar) {
        if (!layered) {
            return reference.chunkLogits(contextSize);
        }
        try {
            return reference.chunkLogits(contextSize, new LayerByLayer(layerState(), resume, bar.layers()));
        } catch (UnsupportedOperationException e) {
            throw new UserInputException(e.getMessage() + " (give --no-layer-by-layer)");
        }
    }

    /** Where a layer-by-layer run keeps its chunks' hidden states: beside the output. */
    private Path layerState() {
        return output.resolveSibling(output.getFileName() + ".layers");
    }

    private void run(ChunkLogits engine, KldLayout layout, int[] tokens, Tokenizer tokenizer, ChunkProgressBar bar,
                     boolean layered, String runBy) throws IOException {
        int chunkCount = layout.chunkCount();
        ReferenceRun.Result result;
        try (KldBaseWriter writer = resume ? KldBaseWriter.resume(output, layout, tokens) : KldBaseWriter.create(output, layout, tokens)) {
            if (writer.chunksBefore() > 0) {
                spec.commandLine().getErr().printf("reference: resuming after %d of %d chunks%n", writer.chunksBefore(), chunkCount);
            }
            result = ReferenceRun.run(engine, writer, tokens, Corpus.evaluationTokens(tokens, contextSize, tokenizer),
                    engineOptions.threads(), layered ? Progress.NONE : bar.chunks());
        } finally {
            bar.close();
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%s: %d chunks of %d tokens from %s, %d scored, run by %s%n", output, chunkCount,
                contextSize, text.getFileName(), result.scoredTokens(), runBy);
        out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", result.ppl(), result.pplUncertainty());
        out.printf(Locale.ROOT, "%.2f tokens/s (%d tokens in %.1f s)%n", result.tokensPerSecond(), result.tokensRun(), result.seconds());
    }

    /** Whether {@code file} is a complete base of exactly this layout and these tokens. */
    private static boolean isComplete(Path file, KldLayout layout, int[] tokens) throws IOException {
        if (!Files.exists(file)) {
            return false;
        }
        try (KldBaseReader reader = KldBaseReader.open(file)) {
            if (!reader.layout().equals(layout) || !Arrays.equals(reader.tokens(), tokens)) {
                throw new UserInputException(file + " is a base of another text or other options; --resume cannot continue it");
            }
            return true;
        }
    }
}
