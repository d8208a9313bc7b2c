package glmj.tensor.quantize;

import glmj.tensor.blocks.IQ4_NLBlock;
import glmj.tensor.blocks.IQTables;
import glmj.tensor.blocks.IQ4_XSBlock;
import glmj.tensor.blocks.FloatFormats;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static glmj.tensor.quantize.BlockIo.putByte;
import static glmj.tensor.quantize.BlockIo.putShort;
import static glmj.tensor.quantize.GgmlMath.GROUP_MAX_EPS;
import static glmj.tensor.quantize.GgmlMath.bestIndexInt8;
import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.nearestInt;

/**
 * The 4-bit non-linear quantizers IQ4_NL and IQ4_XS, as ggml's reference entry points run
 * {@code quantize_row_iq4_nl_impl} without an importance matrix (IQ4_NL with {@code ntry = -1}, IQ4_XS with 7).
 */
public final class NonLinearQuantizers {

    /** The level nearest zero; what an all-zero block's indices become where ggml defines them. */
    private static final byte ZERO_INDEX = 8;

    private static final int BLOCK = 32;
    private static final int QK_K = 256;


    private NonLinearQuantizers() {
    }

    /**
     * IQ4_NL: each 32-weight block gets the least-squares scale for the indices of its first guess. ggml leaves the
     * indices buffer untouched for an all-zero block (scale 0), so such a block repeats the previous block's indices;
     * the same happens here, starting from the zero level (ggml's first buffer contents are undefined).
     */
    public static void iq4_nl(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        byte[] levels = new byte[BLOCK];
        float[] weights = new float[BLOCK];
        Arrays.fill(levels, ZERO_INDEX);
        for (int b = 0; b < blocks; b++, xo += BLOCK, yo += IQ4_NLBlock.BYTES) {
            float scale = fitBlock(x, xo, weights, levels, 0, -1);
            putShort(y, yo + IQ4_NLBlock.D_OFFSET, FloatFormats.f32ToF16(scale));
            putIndices(levels, 0, y, yo + IQ4_NLBlock.QS_OFFSET);
        }
    }

    /** IQ4_XS: 8 sub-block scales fitted with a 15-step search, quantized to 6 bits against a shared f16 scale. */
    public static void iq4_xs(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        byte[] levels = new byte[QK_K];
        float[] weights = new float[BLOCK];
        float[] scales = new float[QK_K / BLOCK];
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += IQ4_XSBlock.BYTES) {
            float maxScale = 0;
            float amaxScale = 0;
            for (int ib = 0; ib < QK_K / BLOCK; ib++) {
                scales[ib] = fitBlock(x, xo + BLOCK * ib, weights, levels, BLOCK * ib, 7);
                float absScale = Math.abs(scales[ib]);
                if (absScale > amaxScale) {
                    amaxScale = absScale;
                    maxScale = scales[ib];
                }
            }
            float d = -maxScale / 32;
            float id = d != 0 ? 1 / d : 0.f;
            int[] blockScales = new int[QK_K / BLOCK];
            for (int ib = 0; ib < QK_K / BLOCK; ib++) {
                int l = clamp(nearestInt(id * scales[ib]), -32, 31);
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0.f;
                for (int j = 0; j < BLOCK; j++) {
                    levels[BLOCK * ib + j] = (byte) bestIndexInt8(IQTables.KVALUES_IQ4NL, idl * x[xo + BLOCK * ib + j]);
                }
                blockScales[ib] = l;
            }
            putShort(y, yo + IQ4_XSBlock.D_OFFSET, FloatFormats.f32ToF16(d));
            IQ4_XSBlock.putScales(y, yo, blockScales);
            for (int ib = 0; ib < QK_K / BLOCK; ib++) {
                putIndices(levels, BLOCK * ib, y, yo + IQ4_XSBlock.QS_OFFSET + 16L * ib);
            }
        }
    }

    /**
     * The per-block part of {@code quantize_row_iq4_nl_impl}: indices for a first scale guess (stored in
     * {@code levels}), then the x²-weighted least-squares scale for them, improved by trying the guesses
     * {@code (itry + values[0]) / max} for itry in {@code [-ntry, ntry]} (none when {@code ntry < 0}).
     * An all-zero block returns 0 and leaves {@code levels} as they were.
     */
    private static float fitBlock(float[] x, int xo, float[] weights, byte[] levels, int levelOffset, int ntry) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < BLOCK; j++) {
            float v = x[xo + j];
            weights[j] = v * v;
            float ax = Math.abs(v);
            if (ax > amax) {
                amax = ax;
                max = v;
            }
        }
        if (amax < GROUP_MAX_EPS) {
            return 0;
        }
        float d = ntry > 0 ? -max / IQTables.KVALUES_IQ4NL[0] : max / IQTables.KVALUES_IQ4NL[0];
        float id = 1 / d;
        float sumqx = 0;
        float sumq2 = 0;
        for (int j = 0; j < BLOCK; j++) {
            float v = x[xo + j];
            int l = bestIndexInt8(IQTables.KVALUES_IQ4NL, id * v);
            levels[levelOffset + j] = (byte) l;
            float q = IQTables.KVALUES_IQ4NL[l];
            float w = weights[j];
            sumqx += w * q * v;
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; itry++) {
            id = (itry + IQTables.KVALUES_IQ4NL[0]) / max;
            sumqx = 0;
            sumq2 = 0;
            for (int j = 0; j < BLOCK; j++) {
                float v = x[xo + j];
                float q = IQTables.KVALUES_IQ4NL[bestIndexInt8(IQTables.KVALUES_IQ4NL, id * v)];
                float w = weights[j];
                sumqx += w * q * v;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    /** 32 indices in 16 bytes: byte j holds index j in its low nibble and index j + 16 in its high nibble. */
    private static void putIndices(byte[] levels, int levelOffset, MemorySegment y, long offset) {
        for (int j = 0; j < 16; j++) {
            putByte(y, offset + j, levels[levelOffset + j] | (levels[levelOffset + 16 + j] << 4));
        }
    }
}
