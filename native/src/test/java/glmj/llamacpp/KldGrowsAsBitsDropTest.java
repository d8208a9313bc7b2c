package glmj.llamacpp;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.Model;
import glmj.generate.ChunkLogits;
import glmj.quality.Comparison;
import glmj.quality.Corpus;
import glmj.quality.KldBaseReader;
import glmj.quality.KldStatistics.Estimate;
import glmj.quality.Progress;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a fixed corpus, llama-quantize's quantizations of the tiny F32 GLM-5 lose more the fewer bits they keep: glmj's
 * mean KL divergence from the F32 model's base (glmj's engine on both sides, at four times the indexer's top-k)
 * grows from Q8_0 to Q6_K, Q4_K_M, Q3_K_M and Q2_K, each step by more than the two means' combined uncertainty.
 */
class KldGrowsAsBitsDropTest {
    private static final int CONTEXT = 4 * TinyGlmDsa.INDEXER_TOP_K;
    private static final int CHUNKS = 4;
    private static final List<String> FILE_TYPES = List.of("Q8_0", "Q6_K", "Q4_K_M", "Q3_K_M", "Q2_K");

    @TempDir
    Path scratch;

    private static Model exact(Path model) throws IOException {
        return QualityFixtures.open(model, CONTEXT, CONTEXT, EngineChoice.java, KernelChoice.ggml, true);
    }

    @Test
    void kldGrowsAsBitsDrop() throws Exception {
        Path base = scratch.resolve("f32.kld");
        int[] run;
        try (Model reference = exact(TestModels.tinyF32()); ChunkLogits engine = reference.chunkLogits(CONTEXT)) {
            int[] tokens = QualityFixtures.chunks(reference, QualityFixtures.corpusSlice(scratch, 20_000), CONTEXT, CHUNKS);
            run = Corpus.evaluationTokens(tokens, CONTEXT, reference.tokenizer());
            QualityFixtures.writeBase(reference, engine, tokens, base);
        }
        List<Estimate> klds = new ArrayList<>();
        try (KldBaseReader reader = KldBaseReader.open(base)) {
            for (String fileType : FILE_TYPES) {
                try (Model model = exact(QualityFixtures.quantized(fileType)); ChunkLogits engine = model.chunkLogits(CONTEXT)) {
                    klds.add(Comparison.run(engine, reader, run, QualityFixtures.THREADS, Progress.NONE).statistics().summary().kld());
                }
            }
        }
        for (int i = 1; i < klds.size(); i++) {
            Estimate more = klds.get(i - 1), fewer = klds.get(i);
            assertTrue(fewer.value() - more.value() > Math.hypot(more.uncertainty(), fewer.uncertainty()),
                    FILE_TYPES.get(i) + " " + fewer + " against " + FILE_TYPES.get(i - 1) + " " + more + "; all: " + klds);
        }
    }
}
