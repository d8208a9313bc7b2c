package glmj.kernel;

import glmj.tensor.blocks.LittleEndian;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TokenAttention against attention computed in double from the same f16 cache: shapes that fill its blocks exactly and
 * shapes it pads, selections within one chunk and across many shared among parallel parts, scores whose maximum keeps
 * rising (each chunk rescales the sums before it), a batch of tokens each over its own rows, and no selected row at
 * all. Also its exponential.
 */
class TokenAttentionTest {
    private static final int ROWS = 700;
    /** Where each head's rope query starts in its q row, after the rest. */
    private static final int ROPE_AT = 16;
    private static final VectorKernels KERNELS = new VectorKernels(2);

    private final SplittableRandom random = new SplittableRandom(17);

    @AfterAll
    static void closeKernels() {
        KERNELS.close();
    }

    /** heads, kv_lora, rope: GLM-5's shape, and small ones whose heads and latent it pads. */
    @ParameterizedTest
    @CsvSource({"64, 512, 64", "6, 80, 24", "17, 40, 8"})
    void attendsAsComputedInDouble(int heads, int kvLora, int rope) {
        Case c = new Case(heads, kvLora, rope, 1f);
        for (int count : new int[]{1, 3, 64, 65, 300, ROWS}) {
            int[] keys = c.select(count);
            float[] out = c.attend(keys, count);
            for (int h = 0; h < heads; h++) {
                c.assertClose(c.reference(keys, count, h), out, h * kvLora, 2e-5, count + " rows, head " + h);
            }
        }
    }

    @Test
    void peakedScoresRisingChunkByChunk() {
        Case c = new Case(64, 512, 64, 8f);
        // rows in the order of their scores for head 0, so every chunk's maximum exceeds the last
        int[] keys = IntStream.range(0, ROWS).boxed()
                .sorted((a, b) -> Double.compare(c.score(a, 0), c.score(b, 0))).mapToInt(Integer::intValue).toArray();
        // two parts of four chunks each
        float[] out = c.attend(keys, 500, 2);
        for (int h = 0; h < 64; h++) {
            // logits of standard deviation 8, each an f32 sum of 576 products, round to about 1e-5 of their size
            c.assertClose(c.reference(keys, 500, h), out, h * 512, 1e-4, "head " + h);
        }
    }

    /**
     * A prompt's batch through {@link MlaAttention}, past the small-batch kernel: each token over its own rows, equal
     * bit for bit to that token attended alone, and to attention in double.
     */
    @Test
    void batchAttendsEachTokenAsAlone() {
        int heads = 6, kvLora = 80, rope = 24, tokens = SmallBatchAttention.GGML_FA_TILE_Q;
        Case c = new Case(heads, kvLora, rope, 1f);
        int absorbedLength = heads * kvLora, qLength = heads * c.shape.headKeyLength();
        float[] absorbed = randoms(tokens * absorbedLength, 1f), q = randoms(tokens * qLength, 1f);
        Selection selection = new Selection(tokens, ROWS, ROWS);
        for (int t = 0; t < tokens; t++) {
            selection.counts[t] = 1 + random.nextInt(ROWS);
            System.arraycopy(c.select(selection.counts[t]), 0, selection.keys[t], 0, selection.counts[t]);
        }
        float[] out = new float[tokens * absorbedLength];
        new MlaAttention(c.shape, KERNELS).attend(absorbed, q, c.cache, ROWS, selection, ROWS - tokens, tokens, out);
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(absorbed, t * absorbedLength, c.absorbed, 0, absorbedLength);
            System.arraycopy(q, t * qLength, c.q, 0, qLength);
            int[] keys = selection.keys[t];
            int count = selection.counts[t];
            assertArrayEquals(c.attend(keys, count), Arrays.copyOfRange(out, t * absorbedLength, (t + 1) * absorbedLength),
                    "token " + t);
            for (int h = 0; h < heads; h++) {
                c.assertClose(c.reference(keys, count, h), out, t * absorbedLength + h * kvLora, 2e-5, "token " + t + ", head " + h);
            }
        }
    }

    @Test
    void noSelectedRowGivesZeros() {
        Case c = new Case(6, 80, 24, 1f);
        assertArrayEquals(new float[6 * 80], c.attend(new int[0], 0));
    }

    @Test
    void expInPlaceFollowsExp() {
        float[] x = new float[100_003];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (-90 * random.nextDouble());
        }
        x[0] = Float.NEGATIVE_INFINITY;
        x[1] = -1000f;
        x[2] = 0f;
        float[] e = x.clone();
        Exponentials.expInPlace(e, 0, e.length);
        assertEquals(0f, e[0]);
        assertEquals(0f, e[1]);
        assertEquals(1f, e[2]);
        for (int i = 3; i < x.length; i++) {
            double exact = Math.exp(x[i]);
            if (exact >= Float.MIN_NORMAL) {
                assertEquals(exact, e[i], 4 * Math.ulp((float) exact), "e^" + x[i]);
            } else {
                assertTrue(e[i] >= 0 && e[i] <= 2 * Float.MIN_NORMAL, "e^" + x[i] + " = " + e[i]);
            }
        }
    }

    /** A random cache and token of one shape, its queries times {@code loudness}. */
    private final class Case {
        final int heads;
        final int kvLora;
        final int width;
        final MlaAttention.Shape shape;
        final MemorySegment cache;
        /** The cache's values, row after row. */
        final double[] values;
        final float[] absorbed;
        final float[] q;

        Case(int heads, int kvLora, int rope, float loudness) {
            this.heads = heads;
            this.kvLora = kvLora;
            this.width = kvLora + rope;
            this.shape = new MlaAttention.Shape(heads, kvLora, rope, ROPE_AT + rope, 1 / (float) Math.sqrt(kvLora + rope));
            this.cache = Arena.ofAuto().allocate(2L * ROWS * width);
            this.values = new double[ROWS * width];
            for (int i = 0; i < ROWS * width; i++) {
                short half = Float.floatToFloat16((float) random.nextGaussian());
                cache.set(LittleEndian.SHORT, 2L * i, half);
                values[i] = Float.float16ToFloat(half);
            }
            this.absorbed = randoms(heads * kvLora, loudness);
            this.q = randoms(heads * shape.headKeyLength(), loudness);
        }

        /** {@code count} distinct rows in cache order. */
        int[] select(int count) {
            boolean[] chosen = new boolean[ROWS];
            for (int picked = 0; picked < count; ) {
                int p = random.nextInt(ROWS);
                if (!chosen[p]) {
                    chosen[p] = true;
                    picked++;
                }
            }
            return IntStream.range(0, ROWS).filter(p -> chosen[p]).toArray();
        }

        float[] attend(int[] keys, int count) {
            return attend(keys, count, 8);
        }

        float[] attend(int[] keys, int count, int parts) {
            float[] out = new float[heads * kvLora];
            new TokenAttention(shape, parts, KERNELS).attend(0, absorbed, q, cache, keys, count, out);
            return out;
        }

        double score(int p, int h) {
            double s = 0;
            for (int d = 0; d < kvLora; d++) {
                s += (double) absorbed[h * kvLora + d] * cached(p, d);
            }
            for (int d = 0; d < width - kvLora; d++) {
                s += (double) q[h * shape.headKeyLength() + shape.ropeFreeLength() + d] * cached(p, kvLora + d);
            }
            return s * shape.scale();
        }

        double[] reference(int[] keys, int count, int h) {
            double[] scores = new double[count];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < count; i++) {
                scores[i] = score(keys[i], h);
                max = Math.max(max, scores[i]);
            }
            double sum = 0;
            double[] out = new double[kvLora];
            for (int i = 0; i < count; i++) {
                double w = Math.exp(scores[i] - max);
                sum += w;
                for (int d = 0; d < kvLora; d++) {
                    out[d] += w * cached(keys[i], d);
                }
            }
            for (int d = 0; d < kvLora; d++) {
                out[d] /= sum;
            }
            return out;
        }

        void assertClose(double[] expected, float[] actual, int at, double tolerance, String what) {
            for (int d = 0; d < expected.length; d++) {
                double error = Math.abs(actual[at + d] - expected[d]);
                assertTrue(error <= tolerance, what + ", element " + d + ": " + actual[at + d] + " against " + expected[d]);
            }
        }

        double cached(int p, int d) {
            return values[p * width + d];
        }
    }

    private float[] randoms(int n, float loudness) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = loudness * (float) random.nextGaussian();
        }
        return values;
    }
}
