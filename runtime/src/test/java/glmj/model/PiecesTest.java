package glmj.model;

import glmj.kernel.TopK;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Closed-form checks of the forward pass's pieces: RoPE, the Hadamard rotation, top-k selection. */
class PiecesTest {

    @Test
    void ropeRotatesAdjacentPairsByPositionTimesFrequency() {
        int dims = 8;
        float base = 10000f;
        Rope rope = new Rope(new Rope.Settings(dims, base, 1f, 0f, 1f, 4096, 32f, 1f));
        float[] angles = new float[dims];
        int pos = 7;
        rope.angles(pos, angles);
        float[] x = {1, 0, 0, 1, 2, 3, -1, 0.5f};
        float[] y = x.clone();
        rope.rotate(angles, y, 0);
        for (int i = 0; i < dims / 2; i++) {
            double theta = pos * Math.pow(base, -2.0 * i / dims);
            double c = Math.cos(theta), s = Math.sin(theta);
            assertEquals(x[2 * i] * c - x[2 * i + 1] * s, y[2 * i], 1e-5, "pair " + i);
            assertEquals(x[2 * i] * s + x[2 * i + 1] * c, y[2 * i + 1], 1e-5, "pair " + i);
        }
    }

    @Test
    void ropeAtPositionZeroIsIdentityAndPreservesNorms() {
        Rope rope = new Rope(new Rope.Settings(4, 500000f, 1f, 0f, 1f, 4096, 32f, 1f));
        float[] angles = new float[4];
        rope.angles(0, angles);
        float[] x = {0.3f, -1.2f, 4f, 2f};
        float[] y = x.clone();
        rope.rotate(angles, y, 0);
        assertArrayEquals(x, y);
        rope.angles(1234, angles);
        rope.rotate(angles, y, 0);
        assertEquals(Math.hypot(x[0], x[1]), Math.hypot(y[0], y[1]), 1e-5);
        assertEquals(Math.hypot(x[2], x[3]), Math.hypot(y[2], y[3]), 1e-5);
    }

    @Test
    void yarnScalesMagnitudeAndInterpolatesLowFrequencies() {
        int dims = 64;
        float factor = 40f;
        Rope plain = new Rope(new Rope.Settings(dims, 10000f, 1f, 0f, 1f, 4096, 32f, 1f));
        Rope yarn = new Rope(new Rope.Settings(dims, 10000f, 1f / factor, 1f, 1f, 4096, 32f, 1f));
        float[] a = new float[dims], b = new float[dims];
        plain.angles(100, a);
        yarn.angles(100, b);
        double mscale = 1 + 0.1 * Math.log(factor);
        // highest frequency pair: extrapolated (unchanged angle), magnitude scaled
        assertEquals(a[0] * mscale, b[0], 1e-5);
        assertEquals(a[1] * mscale, b[1], 1e-5);
        // lowest frequency pair: interpolated, angle divided by the factor
        double theta = 100 * Math.pow(10000, -2.0 * (dims / 2 - 1) / dims) / factor;
        assertEquals(Math.cos(theta) * mscale, b[dims - 2], 1e-5);
        assertEquals(Math.sin(theta) * mscale, b[dims - 1], 1e-5);
    }

    @Test
    void hadamard64IsTheOrthonormalSylvesterMatrix() {
        int n = 64;
        for (int col = 0; col < n; col++) {
            float[] e = new float[n];
            e[col] = 1;
            GlmDsa.hadamard(e, 0, n);
            for (int row = 0; row < n; row++) {
                double expected = (Integer.bitCount(row & col) % 2 == 0 ? 1 : -1) / Math.sqrt(n);
                assertEquals(expected, e[row], 1e-7, "H[" + row + "][" + col + "]");
            }
        }
        float[] x = new float[n];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] y = x.clone();
        GlmDsa.hadamard(y, 0, n);
        GlmDsa.hadamard(y, 0, n);
        for (int i = 0; i < n; i++) {
            assertEquals(x[i], y[i], 1e-5, "H*H = I at " + i);
        }
    }

    @Test
    void topKKeepsTheLargestAndAllWhenFewer() {
        float[] scores = {0.5f, -1f, 3f, 2f, -0.25f, 7f, 1f};
        int[] chosen = new int[3];
        int[] heap = new int[scores.length];
        assertEquals(3, TopK.select(scores, 0, scores.length, 3, chosen, heap));
        int[] sorted = chosen.clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[]{2, 3, 5}, sorted);
        int[] all = new int[8];
        assertEquals(4, TopK.select(scores, 1, 4, 8, all, heap));
        assertArrayEquals(new int[]{0, 1, 2, 3}, Arrays.copyOf(all, 4));
    }

    @Test
    void topKTiesKeepWhatTheFirstKHeldUnlessStrictlyBeaten() {
        // equal scores after the first k never displace: partial_sort replaces the heap top only on "greater"
        float[] scores = {0f, 0f, 0f, 0f, 0f, 5f};
        int[] chosen = new int[2];
        TopK.select(scores, 0, scores.length, 2, chosen, new int[scores.length]);
        int[] sorted = chosen.clone();
        Arrays.sort(sorted);
        assertEquals(5, sorted[1]);
        assertEquals(true, sorted[0] < 2, "a zero from the first k is kept, got index " + sorted[0]);
    }
}
