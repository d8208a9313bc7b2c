package glmj.kernel;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompts multiplied in panels: every output written, each within float rounding of the dot kernels' integer sums,
 * and each token's result the same whichever tile of a batch it falls in: batches of every size from where panels pay
 * to two tiles and a part, whole panels of rows and rows left over.
 */
class PanelsTest {
    private static final int ROWS = 2 * Panels.ROWS + 5;
    private static final int COLS = 320;
    private static final int MOST_TOKENS = 13;

    @Test
    void panelsRoundAsTheDotKernelsWithinFloatRoundingAndAlikeInEveryTile() {
        SplittableRandom random = new SplittableRandom(11);
        try (Arena arena = Arena.ofShared(); VectorKernels panels = new VectorKernels(2, true);
             VectorKernels dots = new VectorKernels(2, false)) {
            Weight w = new Weight("w", VectorKernelsTest.randomWeights(GGMLType.Q8_0, arena, random, ROWS, COLS),
                    GGMLType.Q8_0, ROWS, COLS);
            float[] x = new float[MOST_TOKENS * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] whole = multiply(panels, w, x, 0, MOST_TOKENS);
            float[] exact = multiply(dots, w, x, 0, MOST_TOKENS);
            float[] magnitude = sumsOfMagnitudes(panels, w, x);
            int differing = 0;
            for (int i = 0; i < whole.length; i++) {
                // two sums of COLS products, each off by at most COLS units of rounding of the sum of the products' sizes
                double bound = 2 * COLS * 0x1p-24 * magnitude[i];
                assertEquals(exact[i], whole[i], bound, "token " + i / ROWS + ", row " + i % ROWS);
                differing += Float.floatToIntBits(exact[i]) != Float.floatToIntBits(whole[i]) ? 1 : 0;
            }
            assertTrue(differing > 0, "the batch took the panels, which sum in float");

            for (int first = 0; first < MOST_TOKENS; first++) {
                for (int tokens = Panels.MIN_TOKENS; first + tokens <= MOST_TOKENS; tokens++) {
                    float[] part = multiply(panels, w, x, first, tokens);
                    for (int i = 0; i < part.length; i++) {
                        assertEquals(Float.floatToIntBits(whole[first * ROWS + i]), Float.floatToIntBits(part[i]),
                                "token " + (first + i / ROWS) + ", row " + i % ROWS + " in a batch of " + tokens + " from " + first);
                    }
                }
            }
        }
    }

    /** Tokens {@code [first, first + tokens)} of {@code x} times {@code w}, into outputs that start as NaN. */
    private static float[] multiply(VectorKernels kernels, Weight w, float[] x, int first, int tokens) {
        float[] out = new float[tokens * ROWS];
        Arrays.fill(out, Float.NaN);
        kernels.matmuls(new Weight[] {w}, new Rows(x, first * COLS, 0, COLS), new Rows(out, 0, 0, ROWS), tokens);
        return out;
    }

    /**
     * Per output, a bound on the sum of its products' sizes: the decoded weights times the activations, each widened by
     * its 32-value block's quantization step, as the activations are 8-bit quants (q8_0) when the weights are.
     */
    private static float[] sumsOfMagnitudes(VectorKernels kernels, Weight w, float[] x) {
        float[] row = new float[COLS];
        float[] sums = new float[MOST_TOKENS * ROWS];
        for (int r = 0; r < ROWS; r++) {
            kernels.row(w, r, row, 0);
            for (int b = 0; b < MOST_TOKENS; b++) {
                double sum = 0;
                for (int block = 0; block < COLS; block += 32) {
                    double step = 0;
                    for (int c = block; c < block + 32; c++) {
                        step = Math.max(step, Math.abs(x[b * COLS + c]) / 127);
                    }
                    for (int c = block; c < block + 32; c++) {
                        sum += Math.abs(row[c]) * (Math.abs(x[b * COLS + c]) + step);
                    }
                }
                sums[b * ROWS + r] = (float) sum;
            }
        }
        return sums;
    }
}
