package glmj.tensor.quantize;

import glmj.tensor.blocks.Q4_0Block;
import glmj.tensor.blocks.Q4_1Block;
import glmj.tensor.blocks.Q5_0Block;
import glmj.tensor.blocks.Q5_1Block;
import glmj.tensor.blocks.Q8_0Block;
import glmj.tensor.blocks.FloatFormats;

import java.lang.foreign.MemorySegment;

import static glmj.tensor.quantize.BlockIo.putByte;
import static glmj.tensor.quantize.BlockIo.putInt;
import static glmj.tensor.quantize.BlockIo.putShort;
import static glmj.tensor.quantize.GgmlMath.roundHalfAwayFromZero;
import static glmj.tensor.quantize.GgmlMath.signedMaxByMagnitude;
import static glmj.tensor.quantize.GgmlMath.truncateLikeX86;

/**
 * The 32-weight block quantizers Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0: without an importance matrix ggml's
 * {@code quantize_row_q*_ref}, with one its {@code quantize_row_q*_impl}, whose weights {@code qw * sqrt(σ² + x²)}
 * take σ² over the whole row: with importance a call covers exactly one row. Q8_0 has no weighted form.
 */
public final class LegacyQuantizers {

    private static final int QK = 32;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private LegacyQuantizers() {
    }

    private static final class Scratch {
        final GgmlMath.StepSearch steps = new GgmlMath.StepSearch();
        final int[] quants = new int[QK];
        final byte[] levels = new byte[QK];
        final float[] weights = new float[QK];
        final float[] min = new float[1];
    }

    public static void q4_0(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        if (importance != null) {
            weighted(x, xo, y, yo, blocks, importance, 8);
            return;
        }
        int[] q = SCRATCH.get().quants;
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q4_0Block.BYTES) {
            float max = signedMaxByMagnitude(x, xo, QK);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q4_0Block.D_OFFSET, FloatFormats.f32ToF16(d));
            for (int j = 0; j < QK; j++) {
                q[j] = Math.min(15, (byte) truncateLikeX86(x[xo + j] * id + 8.5f));
            }
            putNibbles(q, y, yo + Q4_0Block.QS_OFFSET);
        }
    }

    public static void q4_1(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        if (importance != null) {
            weighted(x, xo, y, yo, blocks, importance, 15);
            return;
        }
        int[] q = SCRATCH.get().quants;
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q4_1Block.BYTES) {
            float min = minimum(x, xo);
            float d = (maximum(x, xo) - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q4_1Block.D_OFFSET, FloatFormats.f32ToF16(d));
            putShort(y, yo + Q4_1Block.M_OFFSET, FloatFormats.f32ToF16(min));
            for (int j = 0; j < QK; j++) {
                q[j] = Math.min(15, (byte) truncateLikeX86((x[xo + j] - min) * id + 0.5f));
            }
            putNibbles(q, y, yo + Q4_1Block.QS_OFFSET);
        }
    }

    public static void q5_0(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        if (importance != null) {
            weighted(x, xo, y, yo, blocks, importance, 16);
            return;
        }
        int[] q = SCRATCH.get().quants;
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q5_0Block.BYTES) {
            float max = signedMaxByMagnitude(x, xo, QK);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q5_0Block.D_OFFSET, FloatFormats.f32ToF16(d));
            for (int j = 0; j < QK; j++) {
                q[j] = Math.min(31, (byte) truncateLikeX86(x[xo + j] * id + 16.5f)) & 0xFF;
            }
            putFiveBitQuants(q, y, yo + Q5_0Block.QS_OFFSET, yo + Q5_0Block.QH_OFFSET);
        }
    }

    public static void q5_1(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        if (importance != null) {
            weighted(x, xo, y, yo, blocks, importance, 31);
            return;
        }
        int[] q = SCRATCH.get().quants;
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q5_1Block.BYTES) {
            float min = minimum(x, xo);
            float d = (maximum(x, xo) - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q5_1Block.D_OFFSET, FloatFormats.f32ToF16(d));
            putShort(y, yo + Q5_1Block.M_OFFSET, FloatFormats.f32ToF16(min));
            for (int j = 0; j < QK; j++) {
                q[j] = truncateLikeX86((x[xo + j] - min) * id + 0.5f) & 0xFF;
            }
            putFiveBitQuants(q, y, yo + Q5_1Block.QS_OFFSET, yo + Q5_1Block.QH_OFFSET);
        }
    }

    public static void q8_0(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q8_0Block.BYTES) {
            float amax = 0.0f;
            for (int j = 0; j < QK; j++) {
                float ax = Math.abs(x[xo + j]);
                amax = amax > ax ? amax : ax; // C's MAX macro, which lets a NaN through only from its second operand
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q8_0Block.D_OFFSET, FloatFormats.f32ToF16(d));
            for (int j = 0; j < QK; j++) {
                putByte(y, yo + Q8_0Block.QS_OFFSET + j, truncateLikeX86(roundHalfAwayFromZero(x[xo + j] * id)));
            }
        }
    }

    /**
     * Q4_0, Q4_1, Q5_0 and Q5_1 with importance: per block a weighted {@code make_qx_quants} (the symmetric types,
     * {@code nmax} 8 and 16: quants in {@code [0, 2 nmax)} and a scale) or {@code make_qkx3_quants} (the types with
     * a min, {@code nmax} 15 and 31: quants in {@code [0, nmax]}, a scale and a min).
     */
    private static void weighted(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] qw, int nmax) {
        Scratch s = SCRATCH.get();
        float sigma2 = GgmlMath.sumOfSquares(x, xo, blocks * QK) / (blocks * QK);
        int[] q = s.quants;
        for (int b = 0; b < blocks; b++, xo += QK) {
            GgmlMath.importanceWeights(x, xo, qw, QK * b, sigma2, s.weights, QK);
            boolean symmetric = nmax == 8 || nmax == 16;
            float d = symmetric
                    ? GgmlMath.makeQxQuants(QK, nmax, x, xo, s.levels, 0, s.weights, 0)
                    : GgmlMath.makeQkx2Quants(QK, nmax, x, xo, s.weights, s.levels, 0, s.min, 0, -0.9f, 0.05f, 36, false, s.steps);
            for (int j = 0; j < QK; j++) {
                q[j] = s.levels[j];
            }
            short scale = FloatFormats.f32ToF16(d);
            short min = FloatFormats.f32ToF16(-s.min[0]);
            switch (nmax) {
                case 8 -> {
                    putShort(y, yo + Q4_0Block.D_OFFSET, scale);
                    putNibbles(q, y, yo + Q4_0Block.QS_OFFSET);
                    yo += Q4_0Block.BYTES;
                }
                case 15 -> {
                    putShort(y, yo + Q4_1Block.D_OFFSET, scale);
                    putShort(y, yo + Q4_1Block.M_OFFSET, min);
                    putNibbles(q, y, yo + Q4_1Block.QS_OFFSET);
                    yo += Q4_1Block.BYTES;
                }
                case 16 -> {
                    putShort(y, yo + Q5_0Block.D_OFFSET, scale);
                    putFiveBitQuants(q, y, yo + Q5_0Block.QS_OFFSET, yo + Q5_0Block.QH_OFFSET);
                    yo += Q5_0Block.BYTES;
                }
                default -> {
                    putShort(y, yo + Q5_1Block.D_OFFSET, scale);
                    putShort(y, yo + Q5_1Block.M_OFFSET, min);
                    putFiveBitQuants(q, y, yo + Q5_1Block.QS_OFFSET, yo + Q5_1Block.QH_OFFSET);
                    yo += Q5_1Block.BYTES;
                }
            }
        }
    }

    /** The block's smallest weight, as ggml finds it (a NaN is never taken). */
    private static float minimum(float[] x, int xo) {
        float min = Float.MAX_VALUE;
        for (int j = 0; j < QK; j++) {
            if (x[xo + j] < min) {
                min = x[xo + j];
            }
        }
        return min;
    }

    /** The block's largest weight, as ggml finds it (a NaN is never taken). */
    private static float maximum(float[] x, int xo) {
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < QK; j++) {
            if (x[xo + j] > max) {
                max = x[xo + j];
            }
        }
        return max;
    }

    /** Q4 packing: weights j and j + 16 share byte j, low and high nibble; ggml ORs them unmasked. */
    private static void putNibbles(int[] q, MemorySegment y, long qsOffset) {
        for (int j = 0; j < QK / 2; j++) {
            putByte(y, qsOffset + j, (q[j] & 0xFF) | ((q[j + QK / 2] & 0xFF) << 4));
        }
    }

    /** Q5 packing: the low 4 bits as masked nibbles of {@link #putNibbles}, the fifth bit of weight j at bit j of the uint32 qh. */
    private static void putFiveBitQuants(int[] q, MemorySegment y, long qsOffset, long qhOffset) {
        int highBits = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = q[j];
            int q1 = q[j + QK / 2];
            putByte(y, qsOffset + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
            highBits |= ((q0 & 0x10) >>> 4) << j;
            highBits |= ((q1 & 0x10) >>> 4) << (j + QK / 2);
        }
        putInt(y, qhOffset, highBits);
    }
}
