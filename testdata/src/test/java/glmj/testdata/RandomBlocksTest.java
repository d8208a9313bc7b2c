package glmj.testdata;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random blocks decode to finite weights of the asked root mean square and a mean near zero, in every format. */
class RandomBlocksTest {
    private static final int BLOCKS = 2048;

    @Test
    void everyFormatHasTheAskedScaleAndNoOffset() {
        List<GGMLType> written = new ArrayList<>();
        for (GGMLType type : GGMLType.values()) {
            if (!RandomBlocks.canWrite(type)) {
                continue;
            }
            written.add(type);
            for (double rms : new double[] {1.0, 1.0 / Math.sqrt(12288)}) {
                float[] w = decode(type, rms, 7);
                double sum = 0, squares = 0;
                for (float v : w) {
                    assertTrue(Float.isFinite(v), type + ": a weight is " + v);
                    sum += v;
                    squares += (double) v * v;
                }
                double measured = Math.sqrt(squares / w.length), mean = sum / w.length;
                assertEquals(rms, measured, 0.05 * rms, type + " root mean square");
                assertTrue(Math.abs(mean) < 0.02 * rms, type + ": mean " + mean + " against a root mean square of " + rms);
                // sub-blocks of 32 weights are centered too: large common offsets would make matrices nearly of low rank
                double blockMeanSquares = 0;
                for (int b = 0; b < w.length; b += 32) {
                    double blockSum = 0;
                    for (int i = b; i < b + 32; i++) {
                        blockSum += w[i];
                    }
                    blockMeanSquares += (blockSum / 32) * (blockSum / 32);
                }
                double blockMeans = Math.sqrt(blockMeanSquares / (w.length / 32));
                assertTrue(blockMeans < 0.5 * rms, type + ": sub-block means of root mean square " + blockMeans);
            }
        }
        assertTrue(written.containsAll(List.of(GGMLType.Q2_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.Q8_0,
                GGMLType.IQ2_XS, GGMLType.IQ3_XXS, GGMLType.IQ4_XS, GGMLType.Q4_0, GGMLType.Q5_0)), written.toString());
    }

    @Test
    void theSameStreamWritesTheSameBlocks() {
        MemorySegment a = blocks(GGMLType.IQ2_XS, 1.0, 3), b = blocks(GGMLType.IQ2_XS, 1.0, 3), c = blocks(GGMLType.IQ2_XS, 1.0, 4);
        assertEquals(-1, a.mismatch(b));
        assertFalse(a.mismatch(c) == -1);
    }

    private static float[] decode(GGMLType type, double rms, long seed) {
        float[] w = new float[BLOCKS * type.blockSize];
        type.dequantize(blocks(type, rms, seed), 0, w, 0, w.length);
        return w;
    }

    private static MemorySegment blocks(GGMLType type, double rms, long seed) {
        MemorySegment blocks = MemorySegment.ofArray(new byte[BLOCKS * type.typeSize]);
        RandomBlocks.fill(type, blocks, rms, new SplittableRandom(seed));
        return blocks;
    }
}
