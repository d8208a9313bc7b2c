package glmj.model;

import glmj.gguf.GGUFFile;
import glmj.kernel.ForwardingKernels;
import glmj.kernel.Kernels;
import glmj.kernel.Rows;
import glmj.kernel.VectorKernels;
import glmj.kernel.Weight;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * While no token of a batch sees more keys than the indexer's top-k, the model skips the indexer's queries (each token
 * keeps every key it sees whatever the scores): its logits equal, bit for bit, those of a run that computes them, the
 * queries are computed again once a batch reaches past the top-k, and kernels that watch every matmul still get them.
 */
class ShallowIndexerTest {
    private static final int TOP_K = TinyGlmDsa.INDEXER_TOP_K;
    private static final String INDEXER_QUERIES = "blk.0.indexer.attn_q_b.weight";

    /** Batches of the run: a prompt within the top-k, single tokens up to it and past it, then a batch across it. */
    private static final int[] BATCHES = {TOP_K - 6, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1};

    @Test
    void skippingTheQueriesWithinTheTopKChangesNoLogit() throws IOException {
        Run skipping = run(false);
        Run watched = run(true);
        int cached = 0;
        for (int b = 0; b < BATCHES.length; b++) {
            assertArrayEquals(watched.logits.get(b), skipping.logits.get(b), "batch " + b + " at position " + cached);
            boolean pastTopK = cached + BATCHES[b] > TOP_K;
            assertEquals(pastTopK, skipping.queried.get(b), "indexer queries of batch " + b + " at position " + cached);
            assertEquals(true, watched.queried.get(b), "watched: indexer queries of batch " + b);
            cached += BATCHES[b];
        }
    }

    private record Run(List<float[]> logits, List<Boolean> queried) {
    }

    private static Run run(boolean watchesEveryMatmul) throws IOException {
        Recording kernels = new Recording(new VectorKernels(2), watchesEveryMatmul);
        List<float[]> logits = new ArrayList<>();
        List<Boolean> queried = new ArrayList<>();
        try (GGUFFile file = GGUFFile.open(TestModels.tinyQuantMix()); kernels) {
            GlmDsa model = new GlmDsa(file, 64, TOP_K, kernels);
            KvCache cache = model.newCache();
            int position = 0;
            for (int count : BATCHES) {
                int[] tokens = new int[count];
                for (int t = 0; t < count; t++) {
                    tokens[t] = (position + t) * 37 % 1000 + 3;
                }
                float[] out = new float[count * model.config().vocabularySize()];
                kernels.multiplied.clear();
                model.forward(cache, tokens, 0, count, out, true);
                logits.add(out);
                queried.add(kernels.multiplied.contains(INDEXER_QUERIES));
                position += count;
            }
        }
        return new Run(logits, queried);
    }

    /** Kernels that note the weights they multiply and say whether they watch every matmul. */
    private static final class Recording extends ForwardingKernels {
        private final boolean watchesEveryMatmul;
        final Set<String> multiplied = new HashSet<>();

        Recording(Kernels kernels, boolean watchesEveryMatmul) {
            super(kernels);
            this.watchesEveryMatmul = watchesEveryMatmul;
        }

        @Override
        public boolean watchesEveryMatmul() {
            return watchesEveryMatmul;
        }

        @Override
        public void matmul(Weight w, float[] x, float[] out, int batch) {
            multiplied.add(w.name());
            super.matmul(w, x, out, batch);
        }

        @Override
        public void matmuls(Weight[] weights, Rows x, Rows out, int batch) {
            for (Weight w : weights) {
                multiplied.add(w.name());
            }
            super.matmuls(weights, x, out, batch);
        }

        @Override
        public void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                                  float[] out, int[] firstOutput) {
            for (int g = 0; g < groups; g++) {
                multiplied.add(weights[g].name());
            }
            super.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);
        }
    }
}
