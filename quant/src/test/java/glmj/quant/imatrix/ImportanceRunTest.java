package glmj.quant.imatrix;

import glmj.gguf.GGUFFile;
import glmj.kernel.VectorKernels;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chunks no longer than the indexer's top-k, where a forward pass needs no indexer queries, still collect the
 * indexer's query weights, as llama-imatrix's graph multiplies them at every length: one count per token of every
 * chunk in each layer with a full indexer.
 */
class ImportanceRunTest {

    @Test
    void chunksWithinTheTopKCollectTheIndexerQueries() throws IOException {
        int chunk = TinyGlmDsa.INDEXER_TOP_K;
        try (GGUFFile model = GGUFFile.open(TestModels.tinyQuantMix()); VectorKernels kernels = new VectorKernels(2)) {
            int[] tokens = ImportanceRun.tokens(model, "the quick brown fox jumps over the lazy dog. ".repeat(20), false);
            ImportanceRun.Settings settings = new ImportanceRun.Settings(chunk, 3, false, false);
            ImportanceMatrix matrix = ImportanceRun.collect(model, kernels, tokens, "fox", settings, (done, total, collected) -> { });
            for (String layer : new String[] {"blk.0", "blk.1", "blk.3"}) {
                ImportanceMatrix.Entry entry = matrix.entries().get(layer + ".indexer.attn_q_b.weight");
                assertTrue(entry != null, layer + ".indexer.attn_q_b.weight collected: " + matrix.entries().keySet());
                assertArrayEquals(new long[] {3L * chunk}, entry.counts(), layer);
            }
        }
    }
}
