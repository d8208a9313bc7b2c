package glmj.llamacpp;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.Model;
import glmj.engine.ModelOptions;
import glmj.engine.Models;
import glmj.engine.PrefetchChoice;
import glmj.generate.ChunkLogits;
import glmj.quality.Corpus;
import glmj.quality.KldBaseWriter;
import glmj.quality.KldLayout;
import glmj.quality.Progress;
import glmj.quality.ReferenceRun;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

/**
 * What the quality tests share: the corpus scripts/fetch-corpus fetches (missing, it fails the test under
 * {@code -Dglmj.require.llama=true}, as scripts/test runs, and skips it otherwise), llama-quantize's quantizations of
 * the tiny F32 GLM-5, models opened for chunk runs, and bases written by an engine.
 */
final class QualityFixtures {
    static final int THREADS = 2;

    private QualityFixtures() {
    }

    /** Moby-Dick as scripts/fetch-corpus puts it. */
    static Path corpus() {
        Path corpus = Path.of(System.getProperty("glmj.corpus", ".deps/corpus/moby-dick.txt"));
        if (Boolean.getBoolean("glmj.require.llama") && !Files.isRegularFile(corpus)) {
            throw new AssertionError(corpus + " is missing: run scripts/fetch-corpus");
        }
        Assumptions.assumeTrue(Files.isRegularFile(corpus), corpus + " is missing: run scripts/fetch-corpus");
        return corpus;
    }

    /** The first {@code bytes} bytes of the corpus, cut at a line's end, as a file in {@code directory}. */
    static Path corpusSlice(Path directory, int bytes) throws IOException {
        byte[] text = Files.readAllBytes(corpus());
        int end = Math.min(bytes, text.length);
        while (end < text.length && text[end - 1] != '\n') {
            end++;
        }
        return Files.write(directory.resolve("corpus-" + bytes + ".txt"), Arrays.copyOf(text, end));
    }

    /** The tiny F32 model quantized by llama-quantize to {@code fileType} (Q8_0, Q6_K, Q4_K_M, ...), made once. */
    static synchronized Path quantized(String fileType) throws IOException, InterruptedException {
        Path target = TestModels.cacheDirectory().resolve("quality-tiny-glm-dsa-" + fileType + ".gguf");
        if (!Files.isRegularFile(target)) {
            Path partial = target.resolveSibling(target.getFileName() + ".partial");
            LlamaTool.output("llama-quantize", TestModels.tinyF32().toString(), partial.toString(), fileType, "2").succeeded();
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    /** {@code model} opened for chunks of {@code context} tokens in batches of {@code batch}, as the quality commands open it. */
    static Model open(Path model, int context, int batch, EngineChoice engine, KernelChoice kernels, boolean exact) throws IOException {
        return Models.open(model, new ModelOptions(context, batch, THREADS, engine, kernels, exact, PrefetchChoice.auto), notice -> { });
    }

    /** The first {@code chunks} chunks of {@code context} tokens of {@code text}, as the model tokenizes it. */
    static int[] chunks(Model model, Path text, int context, int chunks) throws IOException {
        int[] all = Corpus.tokenize(model.tokenizer(), Corpus.read(text));
        return Arrays.copyOf(all, Corpus.chunkCount(all.length, context, chunks) * context);
    }

    /** Writes the base of {@code tokens} that {@code engine} (on {@code model}) predicts into {@code base}. */
    static ReferenceRun.Result writeBase(Model model, ChunkLogits engine, int[] tokens, Path base) throws IOException {
        int context = engine.chunkLength();
        try (KldBaseWriter writer = KldBaseWriter.create(base, new KldLayout(context, model.tokenizer().vocabularySize(),
                tokens.length / context), tokens)) {
            return ReferenceRun.run(engine, writer, tokens, Corpus.evaluationTokens(tokens, context, model.tokenizer()), THREADS,
                    Progress.NONE);
        }
    }
}
