package glmj.kernel;

import glmj.tensor.blocks.LittleEndian;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TiledAttention against attention computed in double from the same f16 cache, for selections that are sparse, dense,
 * empty within a tile or empty altogether; with widths that leave tails past the vector loops.
 */
class TiledAttentionTest {
    private static final int KV_LORA = 80;
    private static final int ROPE = 24;
    private static final int WIDTH = KV_LORA + ROPE;
    private static final int HEADS = 6;
    /** Each head's q row: some other part, then the rope query at ROPE_AT. */
    private static final int Q_STRIDE = 40;
    private static final int ROPE_AT = 16;
    private static final int ROWS = 300;
    private static final int TOKENS = 3;
    private static final float SCALE = 0.125f;
    private static final double TOLERANCE = 1e-5;

    private final SplittableRandom random = new SplittableRandom(11);
    private final MemorySegment cache = Arena.ofAuto().allocate(2L * ROWS * WIDTH);
    private final float[] absorbed = randoms(TOKENS * HEADS * KV_LORA);
    private final float[] q = randoms(TOKENS * HEADS * Q_STRIDE);
    private final long[][] selection = new long[TOKENS][TiledAttention.tiles(ROWS)];

    TiledAttentionTest() {
        for (int i = 0; i < ROWS * WIDTH; i++) {
            cache.set(LittleEndian.SHORT, 2L * i, Float.floatToFloat16((float) random.nextGaussian()));
        }
        for (int p = 0; p < ROWS; p++) {
            select(0, p, random.nextInt(4) == 0);
            select(1, p, p < 200);
            select(2, p, p >= 64 && p < 128 ? false : random.nextBoolean());
        }
    }

    @Test
    void attendsAsComputedInDouble() {
        float[] out = new float[TOKENS * HEADS * KV_LORA];
        Arrays.fill(out, Float.NaN);
        // an odd number of heads, as heads go in pairs
        attention(5, TOKENS).attend(TOKENS, 1, 5, absorbed, q, cache, selection, ROWS, out);
        for (int t = 0; t < TOKENS; t++) {
            for (int h = 0; h < HEADS; h++) {
                int at = (t * HEADS + h) * KV_LORA;
                if (h < 1) {
                    assertTrue(Float.isNaN(out[at]), "head " + h + " is outside the group and was written");
                } else {
                    assertClose(reference(t, h), out, at, "token " + t + " head " + h);
                }
            }
        }
    }

    @Test
    void aTokenWithoutSelectedRowsGetsZeros() {
        long[][] none = new long[1][selection[0].length];
        float[] out = new float[HEADS * KV_LORA];
        Arrays.fill(out, 1f);
        attention(HEADS, 1).attend(1, 0, HEADS, absorbed, q, cache, none, ROWS, out);
        assertArrayEquals(new float[HEADS * KV_LORA], out);
    }

    /** A token's result does not depend on the batch it is attended in: bit for bit. */
    @Test
    void aTokensResultDoesNotDependOnTheBatch() {
        float[] batch = new float[TOKENS * HEADS * KV_LORA];
        attention(HEADS, TOKENS).attend(TOKENS, 0, HEADS, absorbed, q, cache, selection, ROWS, batch);
        float[] alone = new float[HEADS * KV_LORA];
        attention(HEADS, 1).attend(1, 0, HEADS, Arrays.copyOfRange(absorbed, 2 * HEADS * KV_LORA, absorbed.length),
                Arrays.copyOfRange(q, 2 * HEADS * Q_STRIDE, q.length), cache, new long[][] {selection[2]}, ROWS, alone);
        assertArrayEquals(Arrays.copyOfRange(batch, 2 * HEADS * KV_LORA, batch.length), alone);
    }

    private static TiledAttention attention(int maxHeads, int maxTokens) {
        return new TiledAttention(KV_LORA, ROPE, HEADS, Q_STRIDE, ROPE_AT, SCALE, maxHeads, maxTokens);
    }

    /** Token t's head h: softmax over its selected rows in double, from the f16 cache values. */
    private double[] reference(int t, int h) {
        int head = t * HEADS + h;
        double[] scores = new double[ROWS];
        double max = Double.NEGATIVE_INFINITY;
        for (int p = 0; p < ROWS; p++) {
            if (selected(t, p)) {
                double s = 0;
                for (int d = 0; d < KV_LORA; d++) {
                    s += (double) absorbed[head * KV_LORA + d] * cached(p, d);
                }
                for (int d = 0; d < ROPE; d++) {
                    s += (double) q[head * Q_STRIDE + ROPE_AT + d] * cached(p, KV_LORA + d);
                }
                scores[p] = s * SCALE;
                max = Math.max(max, scores[p]);
            }
        }
        double sum = 0;
        double[] out = new double[KV_LORA];
        for (int p = 0; p < ROWS; p++) {
            if (selected(t, p)) {
                double w = Math.exp(scores[p] - max);
                sum += w;
                for (int d = 0; d < KV_LORA; d++) {
                    out[d] += w * cached(p, d);
                }
            }
        }
        for (int d = 0; d < KV_LORA; d++) {
            out[d] /= sum;
        }
        return out;
    }

    private static void assertClose(double[] expected, float[] actual, int at, String what) {
        for (int d = 0; d < expected.length; d++) {
            double error = Math.abs(actual[at + d] - expected[d]);
            assertTrue(error <= TOLERANCE, what + ", element " + d + ": " + actual[at + d] + " against " + expected[d]);
        }
    }

    private void select(int t, int p, boolean chosen) {
        if (chosen) {
            selection[t][p / TiledAttention.TILE] |= 1L << p;
        }
    }

    private boolean selected(int t, int p) {
        return (selection[t][p / TiledAttention.TILE] & (1L << p)) != 0;
    }

    private double cached(int p, int d) {
        return Float.float16ToFloat(cache.get(LittleEndian.SHORT, 2L * ((long) p * WIDTH + d)));
    }

    private float[] randoms(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
