package glmj.llamacpp;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.Model;
import glmj.generate.ChunkLogits;
import glmj.quality.Comparison;
import glmj.quality.Corpus;
import glmj.quality.KldBaseReader;
import glmj.quality.KldLayout;
import glmj.quality.KldSummary;
import glmj.quality.LlamaPerplexityReport;
import glmj.quality.Progress;
import glmj.testdata.TestModels;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * glmj's KL-divergence bases and statistics against llama-perplexity's own, built by scripts/install-llama from the
 * bundled source: on the tiny F32 GLM-5 and llama-quantize's Q6_K of it, over 4 chunks of 64 tokens of Moby-Dick (124
 * scored positions; llama-perplexity prints statistics from 100 on). llama.cpp runs with its weights unrepacked
 * ({@code -nr}) and glmj's llama.cpp engine batches as llama-perplexity does, so both compute the same logits.
 */
class LlamaPerplexityTest {
    private static final int CONTEXT = 64;
    private static final int CHUNKS = 4;
    private static final int THREADS = QualityFixtures.THREADS;
    private static final Pattern NUMBER = Pattern.compile("-?\\d+\\.(\\d+)");

    @TempDir
    static Path scratch;
    static Path text;
    static Path reference;
    static Tokenizer tokenizer;
    /** The tokens of the chunks llama-perplexity and glmj run. */
    static int[] tokens;

    @BeforeAll
    static void corpus() throws IOException {
        text = QualityFixtures.corpusSlice(scratch, 20_000);
        reference = TestModels.tinyF32();
        try (Model model = QualityFixtures.open(reference, CONTEXT, CONTEXT, EngineChoice.java, KernelChoice.vector, true)) {
            tokenizer = model.tokenizer();
            tokens = QualityFixtures.chunks(model, text, CONTEXT, CHUNKS);
        }
    }

    private static String llamaPerplexity(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("-c", "" + CONTEXT, "-t", "" + THREADS, "-nr"));
        command.addAll(List.of(arguments));
        return LlamaTool.output("llama-perplexity", command.toArray(String[]::new)).succeeded().text();
    }

    @Test
    void glmjWritesTheBaseLlamaPerplexityWrites() throws Exception {
        Path llamas = scratch.resolve("llama-written.kld");
        llamaPerplexity("-m", reference.toString(), "-f", text.toString(), "--chunks", "" + CHUNKS, "-b", "" + CONTEXT,
                "--kl-divergence-base", llamas.toString());
        Path ours = scratch.resolve("glmj-written.kld");
        KldLayout layout = new KldLayout(CONTEXT, tokenizer.vocabularySize(), CHUNKS);
        try (Model model = QualityFixtures.open(reference, CONTEXT, CONTEXT, EngineChoice.llama, KernelChoice.auto, true);
             ChunkLogits engine = model.chunkLogits(CONTEXT)) {
            QualityFixtures.writeBase(model, engine, tokens, ours);
        }
        try (KldBaseReader read = KldBaseReader.open(llamas)) {
            assertEquals(layout, read.layout());
            assertArrayEquals(tokens, read.tokens(), "glmj tokenizes the text as llama-perplexity does");
        }
        assertEquals(-1, Files.mismatch(llamas, ours), "glmj's base differs from llama-perplexity's from the same logits");
    }

    @Test
    void statisticsMatchLlamaPerplexitysOnItsBase() throws Exception {
        Path base = scratch.resolve("llama-base.kld");
        llamaPerplexity("-m", reference.toString(), "-f", text.toString(), "--chunks", "" + CHUNKS, "-b", "" + CONTEXT,
                "--kl-divergence-base", base.toString());
        assertStatisticsMatch(base, QualityFixtures.quantized("Q6_K"), CONTEXT);
    }

    /** A base glmj's own engine wrote, read by llama-perplexity running two chunks per batch. */
    @Test
    void llamaPerplexityReadsGlmjsBase() throws Exception {
        Path base = scratch.resolve("glmj-base.kld");
        try (Model model = QualityFixtures.open(reference, CONTEXT, CONTEXT, EngineChoice.java, KernelChoice.vector, true);
             ChunkLogits engine = model.chunkLogits(CONTEXT)) {
            QualityFixtures.writeBase(model, engine, tokens, base);
        }
        assertStatisticsMatch(base, QualityFixtures.quantized("Q6_K"), 2 * CONTEXT);
    }

    /**
     * llama-perplexity's {@code --kl-divergence} statistics of {@code model} against {@code base} and glmj's, each
     * number within 1% or one unit of the last digit llama-perplexity prints.
     */
    private static void assertStatisticsMatch(Path base, Path model, int batch) throws Exception {
        String llamas = llamaPerplexity("-m", model.toString(), "-b", "" + batch, "--kl-divergence-base", base.toString(),
                "--kl-divergence");
        KldSummary summary;
        try (KldBaseReader reader = KldBaseReader.open(base);
             Model loaded = QualityFixtures.open(model, CONTEXT, batch, EngineChoice.llama, KernelChoice.auto, true);
             ChunkLogits engine = loaded.chunkLogits(CONTEXT)) {
            summary = Comparison.run(engine, reader, Corpus.evaluationTokens(reader.tokens(), CONTEXT, tokenizer), THREADS,
                    Progress.NONE).statistics().summary();
        }
        Map<String, String> theirs = statisticsLines(llamas);
        Map<String, String> ours = statisticsLines(LlamaPerplexityReport.of(summary));
        assertEquals(ours.keySet(), theirs.keySet(), llamas);
        assertTrue(ours.size() > 30, llamas);
        for (String label : ours.keySet()) {
            List<String[]> a = numbers(ours.get(label)), b = numbers(theirs.get(label));
            assertEquals(b.size(), a.size(), label);
            for (int i = 0; i < a.size(); i++) {
                double mine = Double.parseDouble(a.get(i)[0]), llama = Double.parseDouble(b.get(i)[0]);
                double unit = Math.pow(10, -b.get(i)[1].length());
                assertTrue(Math.abs(mine - llama) <= Math.max(0.01 * Math.abs(llama), unit + 1e-12),
                        label + ": glmj " + ours.get(label) + ", llama-perplexity " + theirs.get(label));
            }
        }
    }

    /** The statistics lines of a report, by their label (the text before the colon). */
    private static Map<String, String> statisticsLines(String report) {
        Map<String, String> lines = new LinkedHashMap<>();
        boolean inside = false;
        for (String line : report.lines().toList()) {
            inside |= line.startsWith("====== Perplexity statistics");
            int colon = line.lastIndexOf(':');
            if (inside && colon > 0 && !line.startsWith("======")) {
                lines.put(line.substring(0, colon).strip(), line.substring(colon + 1));
            }
            if (line.startsWith("Same top p")) {
                break;
            }
        }
        return lines;
    }

    /** Each number of {@code text} with its decimals. */
    private static List<String[]> numbers(String text) {
        List<String[]> numbers = new ArrayList<>();
        Matcher m = NUMBER.matcher(text);
        while (m.find()) {
            numbers.add(new String[] {m.group(), m.group(1)});
        }
        return numbers;
    }
}
