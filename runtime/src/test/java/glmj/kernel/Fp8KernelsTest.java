package glmj.kernel;

import glmj.tensor.BlockScales;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.Fp8E4M3;
import glmj.tensor.blocks.LittleEndian;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FP8 E4M3 weights with block scales ({@link GGMLType#FP8_E4M3}) on the vector kernels: a row decodes to each E4M3 value
 * times its block's scale, multiplied in f32 (partial blocks at the right and bottom edges included); and with exact
 * rounding a matmul, of one token or a batch, equals bit for bit the f32 matmul of those decoded weights, as the F32
 * conversion of a checkpoint computes it. With panels a prompt is rounded otherwise, within float rounding.
 */
class Fp8KernelsTest {
    /** Not multiples of the 128-wide blocks: partial blocks at both edges. */
    private static final int ROWS = 200;
    private static final int COLS = 320;
    private static final int BLOCK = 128;

    private record Fp8(Weight weight, Weight decoded) {
    }

    /** Random E4M3 bytes (NaN left out) with random f32 scales, and the same weights decoded by the formula, as F32. */
    private static Fp8 weights(Arena arena, SplittableRandom random) {
        MemorySegment data = arena.allocate((long) ROWS * COLS);
        for (long i = 0; i < data.byteSize(); i++) {
            int bits;
            do {
                bits = random.nextInt(256);
            } while ((bits & Fp8E4M3.NAN_BITS) == Fp8E4M3.NAN_BITS);
            data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) bits);
        }
        int scaleRows = (ROWS + BLOCK - 1) / BLOCK, scaleColumns = (COLS + BLOCK - 1) / BLOCK;
        MemorySegment scaleData = arena.allocate((long) scaleRows * scaleColumns * Float.BYTES);
        for (int i = 0; i < scaleRows * scaleColumns; i++) {
            scaleData.set(LittleEndian.FLOAT, 4L * i, (float) (random.nextDouble(0.5, 2) / 448));
        }
        BlockScales scales = BlockScales.of(scaleData, BLOCK, BLOCK, ROWS, COLS);
        MemorySegment f32 = arena.allocate((long) ROWS * COLS * Float.BYTES);
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) {
                float value = Fp8E4M3.toFloat(LittleEndian.u8(data, (long) r * COLS + c)) * scales.scale(r, c / BLOCK);
                f32.set(LittleEndian.FLOAT, 4L * ((long) r * COLS + c), value);
            }
        }
        return new Fp8(new Weight("fp8", data, GGMLType.FP8_E4M3, ROWS, COLS, scales),
                new Weight("f32", f32, GGMLType.F32, ROWS, COLS));
    }

    private static float[] activations(SplittableRandom random, int tokens) {
        float[] x = new float[tokens * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    @Test
    void rowsDecodeToTheirValuesTimesTheirBlocksScale() {
        SplittableRandom random = new SplittableRandom(3);
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2)) {
            Fp8 w = weights(arena, random);
            float[] row = new float[COLS], expected = new float[COLS];
            for (int r : new int[] {0, 127, 128, ROWS - 1}) {
                kernels.row(w.weight(), r, row, 0);
                kernels.row(w.decoded(), r, expected, 0);
                for (int c = 0; c < COLS; c++) {
                    assertEquals(Float.floatToRawIntBits(expected[c]), Float.floatToRawIntBits(row[c]), "row " + r + " column " + c);
                }
            }
        }
    }

    @Test
    void exactMatmulsAreTheF32MatmulsOfTheDecodedWeightsBitForBit() {
        SplittableRandom random = new SplittableRandom(4);
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2, false)) {
            Fp8 w = weights(arena, random);
            for (int tokens : new int[] {1, 3, 17}) {
                float[] x = activations(random, tokens);
                float[] fp8 = new float[tokens * ROWS], f32 = new float[tokens * ROWS];
                kernels.matmul(w.weight(), x, fp8, tokens);
                kernels.matmul(w.decoded(), x, f32, tokens);
                for (int i = 0; i < fp8.length; i++) {
                    assertEquals(Float.floatToRawIntBits(f32[i]), Float.floatToRawIntBits(fp8[i]), tokens + " tokens, output " + i);
                }
            }
        }
    }

    @Test
    void panelsRoundAPromptWithinFloatRounding() {
        SplittableRandom random = new SplittableRandom(5);
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2, true)) {
            Fp8 w = weights(arena, random);
            int tokens = 17;
            float[] x = activations(random, tokens);
            float[] fp8 = new float[tokens * ROWS], f32 = new float[tokens * ROWS];
            kernels.matmul(w.weight(), x, fp8, tokens);
            kernels.matmul(w.decoded(), x, f32, tokens);
            boolean differs = false;
            for (int i = 0; i < fp8.length; i++) {
                // a sum of COLS products of |w x| up to about 4: reordered, it moves by COLS ulps of that at most
                assertTrue(Math.abs(fp8[i] - f32[i]) <= COLS * 0x1p-24 * 4 * COLS, "output " + i + ": " + fp8[i] + " against " + f32[i]);
                differs |= fp8[i] != f32[i];
            }
            assertTrue(differs, "the panels sum in another order than the f32 dot kernel");
        }
    }

    @Test
    void aWeightAndItsScalesGoTogether() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate((long) ROWS * COLS);
            assertThrows(IllegalArgumentException.class, () -> new Weight("w", data, GGMLType.FP8_E4M3, ROWS, COLS));
            BlockScales scales = BlockScales.of(arena.allocate(2 * 3 * Float.BYTES), BLOCK, BLOCK, ROWS, COLS);
            assertThrows(IllegalArgumentException.class, () -> new Weight("w", data, GGMLType.Q8_0, ROWS / 2, 32, scales));
            assertThrows(IllegalArgumentException.class, () -> BlockScales.of(arena.allocate(4 * Float.BYTES), BLOCK, BLOCK, ROWS, COLS));
        }
    }
}
