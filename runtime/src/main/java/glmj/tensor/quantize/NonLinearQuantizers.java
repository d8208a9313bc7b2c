package glmj.tensor.quantize;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.IQ4_NLBlock;
import glmj.tensor.blocks.IQ4_XSBlock;
import glmj.tensor.blocks.IQTables;

import java.lang.foreign.MemorySegment;

import static glmj.tensor.quantize.BlockIo.putByte;
import static glmj.tensor.quantize.BlockIo.putShort;
import static glmj.tensor.quantize.GgmlMath.GROUP_MAX_EPS;
import static glmj.tensor.quantize.GgmlMath.bestIndexInt8;
import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.nearestInt;

/**
 * The 4-bit non-linear quantizers IQ4_NL and IQ4_XS, as {@code quantize_iq4_nl} and {@code quantize_iq4_xs} run
 * {@code quantize_row_iq4_nl_impl} (a 15-step scale search per 32 weights): weights x² without an importance
 * matrix, {@code qw * sqrt(σ² + x²)} with one (σ² of the block or super-block). ggml's {@code from_float_ref} of
 * IQ4_NL skips the search; what llama-quantize writes, and so what this writes, has it.
 */
public final class NonLinearQuantizers {

    private static final int BLOCK = 32;
    private static final int QK_K = 256;
    private static final int SCALE_TRIES = 7;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private NonLinearQuantizers() {
    }

    private static final class Scratch {
        final byte[] levels = new byte[QK_K];
        final float[] weights = new float[BLOCK];
        final float[] scales = new float[QK_K / BLOCK];
        final int[] blockScales = new int[QK_K / BLOCK];
    }

    /** IQ4_NL: each 32-weight block's searched scale, then every index chosen again against it. */
    public static void iq4_nl(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        for (int b = 0; b < blocks; b++, xo += BLOCK, yo += IQ4_NLBlock.BYTES) {
            float sigma2 = GgmlMath.sumOfSquares(x, xo, BLOCK) * (2.f / BLOCK);
            float scale = fitBlock(x, xo, weights(x, xo, importance, BLOCK * b, sigma2, s.weights), levels, 0);
            putShort(y, yo + IQ4_NLBlock.D_OFFSET, FloatFormats.f32ToF16(scale));
            float id = scale != 0 ? 1 / scale : 0;
            for (int j = 0; j < BLOCK; j++) {
                levels[j] = (byte) bestIndexInt8(IQTables.KVALUES_IQ4NL, id * x[xo + j]);
            }
            putIndices(levels, 0, y, yo + IQ4_NLBlock.QS_OFFSET);
        }
    }

    /** IQ4_XS: 8 sub-block scales fitted with a 15-step search, quantized to 6 bits against a shared f16 scale. */
    public static void iq4_xs(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        float[] scales = s.scales;
        int[] blockScales = s.blockScales;
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += IQ4_XSBlock.BYTES) {
            float sigma2 = GgmlMath.sumOfSquares(x, xo, QK_K) * (2.f / QK_K);
            float maxScale = 0;
            float amaxScale = 0;
            for (int ib = 0; ib < QK_K / BLOCK; ib++) {
                float[] weights = weights(x, xo + BLOCK * ib, importance, QK_K * b + BLOCK * ib, sigma2, s.weights);
                scales[ib] = fitBlock(x, xo + BLOCK * ib, weights, levels, BLOCK * ib);
                float absScale = Math.abs(scales[ib]);
                if (absScale > amaxScale) {
                    amaxScale = absScale;
                    maxScale = scales[ib];
                }
            }
            float d = -maxScale / 32;
            float id = d != 0 ? 1 / d : 0.f;
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

    /** The 32 weights of a block into {@code weights}: x² without importance, else {@code qw * sqrt(σ² + x²)}. */
    private static float[] weights(float[] x, int xo, float[] qw, int wo, float sigma2, float[] weights) {
        if (qw == null) {
            for (int j = 0; j < BLOCK; j++) {
                weights[j] = x[xo + j] * x[xo + j];
            }
        } else {
            GgmlMath.importanceWeights(x, xo, qw, wo, sigma2, weights, BLOCK);
        }
        return weights;
    }

    /**
     * The per-block part of {@code quantize_row_iq4_nl_impl}: indices for a first scale guess (stored in
     * {@code levels}), then the weighted least-squares scale for them, improved by trying the guesses
     * {@code (itry + values[0]) / max} for itry in {@code [-7, 7]}. An all-zero block returns 0 and leaves
     * {@code levels} as they were.
     */
    private static float fitBlock(float[] x, int xo, float[] weights, byte[] levels, int levelOffset) {
        byte[] values = IQTables.KVALUES_IQ4NL;
        float amax = 0;
        float max = 0;
        for (int j = 0; j < BLOCK; j++) {
            float ax = Math.abs(x[xo + j]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + j];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            return 0;
        }
        float d = -max / values[0];
        float id = 1 / d;
        float sumqx = 0;
        float sumq2 = 0;
        for (int j = 0; j < BLOCK; j++) {
            float v = x[xo + j];
            int l = bestIndexInt8(values, id * v);
            levels[levelOffset + j] = (byte) l;
            float q = values[l];
            float w = weights[j];
            sumqx += w * q * v;
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -SCALE_TRIES; itry <= SCALE_TRIES; itry++) {
            id = (itry + values[0]) / max;
            sumqx = 0;
            sumq2 = 0;
            for (int j = 0; j < BLOCK; j++) {
                float v = x[xo + j];
                float q = values[bestIndexInt8(values, id * v)];
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
