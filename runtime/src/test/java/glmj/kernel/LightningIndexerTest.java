package glmj.kernel;

import glmj.tensor.blocks.LittleEndian;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The lightning indexer's scores bit for bit as ggml's indexer computes them, each head's dot product by
 * {@link FloatDots#f32(float[], int, float[], int, int)} (ggml_vec_dot_f32's order) and the heads summed in order,
 * ReLU and weight fused, for every key a token sees and none past it; and its top-k as {@link TopK} picks from those
 * scores. GLM-5's indexer heads and odd sizes (a tail past the last four vectors, an odd number of keys after the
 * kernel's pairs); a batch of tokens (scored against shared tiles) and a single one.
 */
class LightningIndexerTest {
    private static final VectorKernels KERNELS = new VectorKernels(2);

    @AfterAll
    static void closeKernels() {
        KERNELS.close();
    }

    /**
     * Where no token sees more keys than the top-k, {@link Selection#everyVisible} is the indexer's choice whatever the
     * scores: the same lists, counts and bits, written over an earlier, larger choice.
     */
    @ParameterizedTest
    @CsvSource({"0, 1", "0, 64", "60, 10", "63, 1", "63, 2", "127, 1", "128, 1", "200, 56"})
    void everyVisibleKeyIsTheChoiceOfAnIndexerThatSeesNoMoreThanItsTopK(int cached, int tokens) {
        int heads = 4, headLength = 16, capacity = 512, topK = cached + tokens;
        Inputs in = Inputs.random(new SplittableRandom(cached * 100L + tokens), heads, headLength, tokens, capacity);
        LightningIndexer indexer = new LightningIndexer(new LightningIndexer.Shape(heads, headLength, topK), tokens, capacity, KERNELS);
        Selection chosen = new Selection(tokens, topK, capacity);
        indexer.select(in.queries, in.weights, in.keys, cached, tokens, chosen);
        Selection every = new Selection(tokens, topK, capacity);
        for (int t = 0; t < tokens; t++) {
            Arrays.fill(every.keys[t], -1);
            Arrays.fill(every.rows[t], -1L);
        }
        every.everyVisible(cached, tokens);
        int words = Selection.tiles(cached + tokens);
        for (int t = 0; t < tokens; t++) {
            assertEquals(chosen.counts[t], every.counts[t], "token " + t);
            assertArrayEquals(Arrays.copyOf(chosen.keys[t], chosen.counts[t]), Arrays.copyOf(every.keys[t], every.counts[t]), "token " + t);
            assertArrayEquals(Arrays.copyOf(chosen.rows[t], words), Arrays.copyOf(every.rows[t], words), "token " + t);
        }
    }

    @ParameterizedTest
    @CsvSource({"32, 128, 1, 300", "32, 128, 5, 300", "5, 72, 3, 200", "3, 20, 2, 70"})
    void scoresAsGgmlAddsThemUp(int heads, int headLength, int tokens, int cached) {
        int capacity = cached + tokens, topK = 64;
        Inputs in = Inputs.random(new SplittableRandom(heads * 1000L + headLength), heads, headLength, tokens, capacity);
        float[] key = in.key, queries = in.queries, weights = in.weights;
        LightningIndexer indexer = new LightningIndexer(new LightningIndexer.Shape(heads, headLength, topK), tokens, capacity, KERNELS);
        Selection selection = new Selection(tokens, topK, capacity);
        indexer.select(queries, weights, in.keys, cached, tokens, selection);
        for (int t = 0; t < tokens; t++) {
            int visible = cached + t + 1;
            float[] expected = new float[capacity];
            for (int j = 0; j < visible; j++) {
                float sum = 0;
                for (int h = 0; h < heads; h++) {
                    float qk = FloatDots.f32(queries, (t * heads + h) * headLength, key, j * headLength, headLength);
                    sum = Math.fma(Math.max(qk, 0f), weights[t * heads + h], sum);
                }
                expected[j] = sum;
                assertEquals(Float.floatToRawIntBits(sum), Float.floatToRawIntBits(indexer.score(t, j)),
                        "token " + t + ", key " + j + ": " + indexer.score(t, j) + " against " + sum);
            }
            int[] chosen = new int[topK];
            int n = TopK.select(expected, 0, visible, topK, chosen, new int[capacity]);
            int[] sorted = Arrays.copyOf(chosen, n);
            Arrays.sort(sorted);
            assertEquals(n, selection.counts[t]);
            assertArrayEquals(sorted, Arrays.copyOf(selection.keys[t], n), "token " + t);
        }
    }

    /** A cache of f16 keys ({@code key}: the same as floats), and each token's queries and head weights, all Gaussian. */
    private record Inputs(MemorySegment keys, float[] key, float[] queries, float[] weights) {
        static Inputs random(SplittableRandom random, int heads, int headLength, int tokens, int capacity) {
            MemorySegment keys = Arena.ofAuto().allocate(2L * capacity * headLength);
            float[] key = new float[capacity * headLength];
            for (int i = 0; i < key.length; i++) {
                short half = Float.floatToFloat16((float) random.nextGaussian());
                keys.set(LittleEndian.SHORT, 2L * i, half);
                key[i] = Float.float16ToFloat(half);
            }
            float[] queries = new float[tokens * heads * headLength];
            float[] weights = new float[tokens * heads];
            for (int i = 0; i < queries.length; i++) {
                queries[i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) random.nextGaussian();
            }
            return new Inputs(keys, key, queries, weights);
        }
    }
}
