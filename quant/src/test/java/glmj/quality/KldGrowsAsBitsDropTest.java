package glmj.quality;

import glmj.gguf.GGUFFile;
import glmj.llamacpp.GgmlKernels;
import glmj.quality.KldStatistics.Estimate;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
    private static final int THREADS = 2;
    private static final List<String> FILE_TYPES = List.of("Q8_0", "Q6_K", "Q4_K_M", "Q3_K_M", "Q2_K");

    @TempDir
    Path scratch;

    @Test
    void kldGrowsAsBitsDrop() throws Exception {
        Path reference = TestModels.tinyF32();
        Tokenizer tokenizer;
        try (GGUFFile file = GGUFFile.open(reference)) {
            tokenizer = Tokenizer.fromGGUF(file.metadata());
        }
        int[] all = Corpus.tokenize(tokenizer, Corpus.read(LlamaTools.corpusSlice(scratch, 20_000)));
        int[] tokens = Arrays.copyOf(all, CONTEXT * Corpus.chunkCount(all.length, CONTEXT, CHUNKS));
        int[] run = Corpus.evaluationTokens(tokens, CONTEXT, tokenizer);
        Path base = scratch.resolve("f32.kld");
        try (ChunkLogits engine = new JavaChunkLogits(GGUFFile.open(reference), new GgmlKernels(THREADS, false), CONTEXT, CONTEXT);
             KldBaseWriter writer = KldBaseWriter.create(base, new KldLayout(CONTEXT, tokenizer.vocabularySize(), CHUNKS), tokens)) {
            ReferenceRun.run(engine, writer, tokens, run, THREADS, Progress.NONE);
        }
        List<Estimate> klds = new ArrayList<>();
        try (KldBaseReader reader = KldBaseReader.open(base)) {
            for (String fileType : FILE_TYPES) {
                try (ChunkLogits engine = new JavaChunkLogits(GGUFFile.open(QualityModels.quantized(fileType)),
                        new GgmlKernels(THREADS, false), CONTEXT, CONTEXT)) {
                    klds.add(Comparison.run(engine, reader, run, THREADS, Progress.NONE).statistics().summary().kld());
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
