package glmj.cli;

import glmj.gguf.GGUFFile;
import glmj.quality.ChunkLogits;
import glmj.quality.Corpus;
import glmj.quality.KldBaseReader;
import glmj.quality.KldBaseWriter;
import glmj.quality.KldLayout;
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
            "The file is written as FILE.partial and gets its name when complete; --resume continues an interrupted run"
                + " from its last whole chunk. Prints the model's perplexity and tokens/s at the end."
        },
        footer = {"", "Examples:",
            "  glmj quality reference -m GLM-5-Q8_0.gguf -f moby-dick.txt -c 512 --chunks 100 -o glm5.kld",
            "  glmj quality reference -m GLM-5-Q8_0.gguf -f moby-dick.txt -c 512 --chunks 100 -o glm5.kld --resume",
            "  scripts/fetch-corpus   # puts Moby-Dick into .deps/corpus/moby-dick.txt"})
final class QualityReferenceCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    QualityEngineOptions engineOptions;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "The reference model: a GGUF, or any shard of a split set.")
    Path model;

    @Option(names = {"-f", "--file", "--text"}, required = true, paramLabel = "FILE", description = "The text to run over (UTF-8).")
    Path text;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "Tokens per chunk (default: ${DEFAULT-VALUE}, as llama-perplexity).")
    int contextSize = 512;

    @Option(names = "--chunks", paramLabel = "K", description = "Chunks at most (default: as many as the text makes).")
    int chunks = -1;

    @Option(names = {"-o", "--kl-divergence-base"}, required = true, paramLabel = "FILE", description = "The base file to write.")
    Path output;

    @Option(names = "--resume", description = "Continue the interrupted run whose FILE.partial is there (same text, -c and --chunks).")
    boolean resume;

    @Override
    public Integer call() throws IOException {
        if (contextSize < 4 || chunks == 0 || chunks < -1) {
            throw new UserInputException("-c must be 4 or more and --chunks 1 or more (got -c " + contextSize + ", --chunks " + chunks + ")");
        }
        PrintWriter out = spec.commandLine().getOut();
        Tokenizer tokenizer;
        try (GGUFFile file = GGUFFile.open(model)) {
            tokenizer = Tokenizer.fromGGUF(file.metadata());
            String contextKey = file.metadata().getString("general.architecture", "") + ".context_length";
            if (file.metadata().has(contextKey) && contextSize > file.metadata().getInt(contextKey)) {
                throw new UserInputException("-c " + contextSize + " is more than the model's context of "
                        + file.metadata().getInt(contextKey) + " tokens");
            }
        }
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
        try (ChunkLogits engine = engineOptions.open(model, contextSize)) {
            if (engine.vocabularySize() != layout.vocabularySize()) {
                throw new UserInputException(model + ": its tokenizer has " + layout.vocabularySize() + " tokens, its output "
                        + engine.vocabularySize());
            }
            run(engine, layout, tokens, tokenizer, out);
        }
        return 0;
    }

    private void run(ChunkLogits engine, KldLayout layout, int[] tokens, Tokenizer tokenizer, PrintWriter out) throws IOException {
        int chunkCount = layout.chunkCount();
        ReferenceRun.Result result;
        try (KldBaseWriter writer = resume ? KldBaseWriter.resume(output, layout, tokens) : KldBaseWriter.create(output, layout, tokens)) {
            if (writer.chunksBefore() > 0) {
                spec.commandLine().getErr().printf("reference: resuming after %d of %d chunks%n", writer.chunksBefore(), chunkCount);
            }
            try (ChunkProgressBar bar = ChunkProgressBar.open("reference", chunkCount, contextSize, writer.chunksBefore())) {
                result = ReferenceRun.run(engine, writer, tokens, Corpus.evaluationTokens(tokens, contextSize, tokenizer),
                        engineOptions.threads, bar.listener());
            }
        }
        out.printf(Locale.ROOT, "%s: %d chunks of %d tokens from %s, %d scored, run by %s%n", output, chunkCount,
                contextSize, text.getFileName(), result.scoredTokens(), engineOptions.describe());
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
