package glmj.tensor.quantize;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q3_KBlock;
import glmj.tensor.blocks.Q4_KBlock;
import glmj.tensor.blocks.Q5_KBlock;
import glmj.tensor.blocks.Q6_KBlock;
import glmj.tensor.blocks.Q8_KBlock;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static glmj.tensor.quantize.BlockIo.putByte;
import static glmj.tensor.quantize.BlockIo.putFloat;
import static glmj.tensor.quantize.BlockIo.putShort;
import static glmj.tensor.quantize.BlockIo.putZeros;
import static glmj.tensor.quantize.GgmlMath.GROUP_MAX_EPS;
import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.makeQ3Quants;
import static glmj.tensor.quantize.GgmlMath.makeQkx2Quants;
import static glmj.tensor.quantize.GgmlMath.makeQpQuants;
import static glmj.tensor.quantize.GgmlMath.makeQxQuants;
import static glmj.tensor.quantize.GgmlMath.nearestInt;

/**
 * The 256-weight super-block quantizers Q2_K to Q6_K and Q8_K: without an importance matrix ggml's
 * {@code quantize_row_q*_K_ref}, with one its {@code quantize_row_q*_K_impl}. With importance a call covers one
 * row and {@code importance[i]} weighs the row's column i.
 */
public final class KQuantizers {

    private static final int QK_K = 256;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private KQuantizers() {
    }

    /** Working arrays of one thread, as ggml keeps them on its stack. */
    private static final class Scratch {
        final GgmlMath.StepSearch steps = new GgmlMath.StepSearch();
        final byte[] levels = new byte[QK_K];
        final float[] weights = new float[32];
        final float[] scales = new float[QK_K / 16];
        final float[] mins = new float[QK_K / 16];
        final float[] sumWeights = new float[QK_K / 16];
        final byte[] scaleLevels = new byte[QK_K / 16];
        final byte[] minLevels = new byte[QK_K / 16];
        final int[] packedScales = new int[QK_K / 16];
        final int[] packedMins = new int[QK_K / 16];
        final int[] highBits = new int[32];
        final short[] dAndMin = new short[2];
    }

    public static void q2_K(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        Scratch s = SCRATCH.get();
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q2_KBlock.BYTES) {
            if (importance == null) {
                q2_KScales(x, xo, s);
            } else {
                q2_KScalesWeighted(x, xo, s, importance, QK_K * b);
            }
            float d = FloatFormats.f16ToF32(s.dAndMin[0]);
            float dmin = FloatFormats.f16ToF32(s.dAndMin[1]);
            byte[] levels = s.levels;
            for (int j = 0; j < QK_K / 16; j++) {
                int packed = s.packedScales[j];
                float dl = d * (packed & 0xF);
                if (dl == 0) {
                    continue;
                }
                float ml = dmin * (packed >>> 4);
                for (int i = 0; i < 16; i++) {
                    levels[16 * j + i] = (byte) clamp(nearestInt((x[xo + 16 * j + i] + ml) / dl), 0, 3);
                }
            }
            for (int j = 0; j < QK_K / 16; j++) {
                putByte(y, yo + Q2_KBlock.SCALES_OFFSET + j, s.packedScales[j]);
            }
            putTwoBitQuants(levels, y, yo + Q2_KBlock.QS_OFFSET);
            putShort(y, yo + Q2_KBlock.D_OFFSET, s.dAndMin[0]);
            putShort(y, yo + Q2_KBlock.DMIN_OFFSET, s.dAndMin[1]);
        }
    }

    /**
     * The reference Q2_K fit: MAD-weighted {@code make_qkx2_quants}, scales and mins against their maxima, into
     * {@code s.packedScales} and {@code s.dAndMin}.
     */
    private static void q2_KScales(float[] x, int xo, Scratch s) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            for (int l = 0; l < 16; l++) {
                s.weights[l] = Math.abs(x[xo + 16 * j + l]);
            }
            s.scales[j] = makeQkx2Quants(16, 3, x, xo + 16 * j, s.weights, s.levels, 16 * j, s.mins, j,
                    -0.5f, 0.1f, 15, true, s.steps);
            if (s.scales[j] > maxScale) {
                maxScale = s.scales[j];
            }
            if (s.mins[j] > maxMin) {
                maxMin = s.mins[j];
            }
        }
        int[] packedScales = s.packedScales;
        if (maxScale > 0) {
            float iscale = 15.f / maxScale;
            for (int j = 0; j < QK_K / 16; j++) {
                packedScales[j] = nearestInt(iscale * s.scales[j]) & 0xFF;
            }
            s.dAndMin[0] = FloatFormats.f32ToF16(maxScale / 15.f);
        } else {
            Arrays.fill(packedScales, 0);
            s.dAndMin[0] = FloatFormats.f32ToF16(0.f);
        }
        if (maxMin > 0) {
            float iscale = 15.f / maxMin;
            for (int j = 0; j < QK_K / 16; j++) {
                packedScales[j] = (packedScales[j] | (nearestInt(iscale * s.mins[j]) << 4)) & 0xFF;
            }
            s.dAndMin[1] = FloatFormats.f32ToF16(maxMin / 15.f);
        } else {
            s.dAndMin[1] = FloatFormats.f32ToF16(0.f);
        }
    }

    /**
     * The importance-weighted Q2_K fit: weights {@code qw * sqrt(σ² + x²)}, a squared-error {@code make_qkx3_quants}
     * per sub-block, then the scales and mins as {@code make_qp_quants} levels under the sub-blocks' weight sums.
     */
    private static void q2_KScalesWeighted(float[] x, int xo, Scratch s, float[] qw, int wo) {
        float sigma2 = GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
        for (int j = 0; j < QK_K / 16; j++) {
            s.sumWeights[j] = GgmlMath.importanceWeights(x, xo + 16 * j, qw, wo + 16 * j, sigma2, s.weights, 16);
            s.scales[j] = makeQkx2Quants(16, 3, x, xo + 16 * j, s.weights, s.levels, 16 * j, s.mins, j,
                    -0.9f, 0.05f, 36, false, s.steps);
        }
        float dm = makeQpQuants(QK_K / 16, 15, s.scales, 0, s.scaleLevels, 0, s.sumWeights);
        float mm = makeQpQuants(QK_K / 16, 15, s.mins, 0, s.minLevels, 0, s.sumWeights);
        s.dAndMin[0] = FloatFormats.f32ToF16(dm);
        s.dAndMin[1] = FloatFormats.f32ToF16(mm);
        for (int j = 0; j < QK_K / 16; j++) {
            s.packedScales[j] = ((s.scaleLevels[j] & 0xFF) | ((s.minLevels[j] & 0xFF) << 4)) & 0xFF;
        }
    }

    public static void q3_K(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        int[] blockScales = s.packedScales;
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q3_KBlock.BYTES) {
            short d = importance == null ? q3_KScales(x, xo, s, blockScales) : q3_KScalesWeighted(x, xo, s, blockScales, importance, QK_K * b);
            for (int j = 0; j < QK_K / 16; j++) {
                float dl = FloatFormats.f16ToF32(d) * blockScales[j];
                if (dl == 0) {
                    continue;
                }
                for (int i = 0; i < 16; i++) {
                    levels[16 * j + i] = (byte) (clamp(nearestInt(x[xo + 16 * j + i] / dl), -4, 3) + 4);
                }
            }
            // the high bit of quant j goes to bit j / 32 of hmask byte j % 32
            for (int m = 0; m < QK_K / 8; m++) {
                int hmask = 0;
                for (int bit = 0; bit < 8; bit++) {
                    int j = bit * (QK_K / 8) + m;
                    if (levels[j] > 3) {
                        hmask |= 1 << bit;
                        levels[j] -= 4;
                    }
                }
                putByte(y, yo + Q3_KBlock.HMASK_OFFSET + m, hmask);
            }
            putTwoBitQuants(levels, y, yo + Q3_KBlock.QS_OFFSET);
            Q3_KBlock.putScales(y, yo, blockScales);
            putShort(y, yo + Q3_KBlock.D_OFFSET, d);
        }
    }

    /** The reference Q3_K fit: {@code make_q3_quants} per sub-block, scales against the largest; returns f16 d. */
    private static short q3_KScales(float[] x, int xo, Scratch s, int[] blockScales) {
        float maxScale = 0;
        float amax = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            s.scales[j] = makeQ3Quants(16, 4, x, xo + 16 * j, s.levels, 16 * j);
            float scale = Math.abs(s.scales[j]);
            if (scale > amax) {
                amax = scale;
                maxScale = s.scales[j];
            }
        }
        if (maxScale == 0) {
            Arrays.fill(blockScales, -32); // all-zero scale bits
            return FloatFormats.f32ToF16(0.f);
        }
        float iscale = -32.f / maxScale;
        for (int j = 0; j < QK_K / 16; j++) {
            blockScales[j] = clamp((byte) nearestInt(iscale * s.scales[j]), -32, 31);
        }
        return FloatFormats.f32ToF16(1 / iscale);
    }

    /** The importance-weighted Q3_K fit: weighted {@code make_qx_quants} for quants and again for the 6-bit scales. */
    private static short q3_KScalesWeighted(float[] x, int xo, Scratch s, int[] blockScales, float[] qw, int wo) {
        float sigma2 = 2 * GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
        for (int j = 0; j < QK_K / 16; j++) {
            s.sumWeights[j] = GgmlMath.importanceWeights(x, xo + 16 * j, qw, wo + 16 * j, sigma2, s.weights, 16);
            s.scales[j] = makeQxQuants(16, 4, x, xo + 16 * j, s.levels, 16 * j, s.weights, 0);
        }
        float dBlock = makeQxQuants(QK_K / 16, 32, s.scales, 0, s.scaleLevels, 0, s.sumWeights, 0);
        for (int j = 0; j < QK_K / 16; j++) {
            blockScales[j] = s.scaleLevels[j] - 32;
        }
        return FloatFormats.f32ToF16(dBlock);
    }

    public static void q4_K(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q4_KBlock.BYTES) {
            putScalesAndMins(x, xo, y, yo, s, 15, importance, QK_K * b);
            requantizeSubBlocks(x, xo, y, yo, levels, 15);
            for (int chunk = 0; chunk < QK_K / 64; chunk++) {
                for (int l = 0; l < 32; l++) {
                    int low = levels[64 * chunk + l];
                    int high = levels[64 * chunk + 32 + l];
                    putByte(y, yo + Q4_KBlock.QS_OFFSET + 32 * chunk + l, low | (high << 4));
                }
            }
        }
    }

    public static void q5_K(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        int[] highBits = s.highBits;
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q5_KBlock.BYTES) {
            putScalesAndMins(x, xo, y, yo, s, 31, importance, QK_K * b);
            requantizeSubBlocks(x, xo, y, yo, levels, 31);
            Arrays.fill(highBits, 0);
            for (int chunk = 0; chunk < QK_K / 64; chunk++) {
                for (int l = 0; l < 32; l++) {
                    int low = levels[64 * chunk + l];
                    int high = levels[64 * chunk + 32 + l];
                    highBits[l] |= (low >>> 4) << (2 * chunk) | (high >>> 4) << (2 * chunk + 1);
                    putByte(y, yo + Q5_KBlock.QS_OFFSET + 32 * chunk + l, (low & 0xF) | ((high & 0xF) << 4));
                }
            }
            for (int l = 0; l < 32; l++) {
                putByte(y, yo + Q5_KBlock.QH_OFFSET + l, highBits[l]);
            }
        }
    }

    public static void q6_K(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q6_KBlock.BYTES) {
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                // with importance, ggml weighs the squared errors by the importance itself
                float scale = makeQxQuants(16, 32, x, xo + 16 * ib, levels, 16 * ib, importance, QK_K * b + 16 * ib);
                s.scales[ib] = scale;
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                putZeros(y, yo, Q6_KBlock.BYTES);
                continue;
            }
            float iscale = -128.f / maxScale;
            short d = FloatFormats.f32ToF16(1 / iscale);
            int[] blockScales = s.packedScales;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                blockScales[ib] = (byte) Math.min(127, nearestInt(iscale * s.scales[ib]));
            }
            for (int j = 0; j < QK_K / 16; j++) {
                float dl = FloatFormats.f16ToF32(d) * blockScales[j];
                if (dl == 0) {
                    continue;
                }
                for (int i = 0; i < 16; i++) {
                    levels[16 * j + i] = (byte) (clamp(nearestInt(x[xo + 16 * j + i] / dl), -32, 31) + 32);
                }
            }
            for (int half = 0; half < QK_K / 128; half++) {
                int base = 128 * half;
                for (int l = 0; l < 32; l++) {
                    int q1 = levels[base + l];
                    int q2 = levels[base + l + 32];
                    int q3 = levels[base + l + 64];
                    int q4 = levels[base + l + 96];
                    putByte(y, yo + Q6_KBlock.QL_OFFSET + 64 * half + l, (q1 & 0xF) | ((q3 & 0xF) << 4));
                    putByte(y, yo + Q6_KBlock.QL_OFFSET + 64 * half + l + 32, (q2 & 0xF) | ((q4 & 0xF) << 4));
                    putByte(y, yo + Q6_KBlock.QH_OFFSET + 32 * half + l, (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
            for (int ib = 0; ib < QK_K / 16; ib++) {
                putByte(y, yo + Q6_KBlock.SCALES_OFFSET + ib, blockScales[ib]);
            }
            putShort(y, yo + Q6_KBlock.D_OFFSET, d);
        }
    }

    /** Q8_K has no importance-weighted form (it is the activations' type); {@code importance} is ignored. */
    public static void q8_K(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q8_KBlock.BYTES) {
            float max = GgmlMath.signedMaxByMagnitude(x, xo, QK_K);
            if (max == 0) {
                putZeros(y, yo, Q8_KBlock.BYTES);
                continue;
            }
            float iscale = -127.f / max;
            for (int group = 0; group < QK_K / 16; group++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) {
                    int j = 16 * group + i;
                    byte q = (byte) Math.min(127, nearestInt(iscale * x[xo + j]));
                    putByte(y, yo + Q8_KBlock.QS_OFFSET + j, q);
                    sum += q;
                }
                putShort(y, yo + Q8_KBlock.BSUMS_OFFSET + 2L * group, (short) sum);
            }
            putFloat(y, yo + Q8_KBlock.D_OFFSET, 1 / iscale);
        }
    }

    /**
     * The first half of Q4_K/Q5_K: a fit per 32-weight sub-block, then the sub-block scales and mins as 6-bit levels,
     * written with {@code d} and {@code dmin} as the block's header.
     */
    private static void putScalesAndMins(float[] x, int xo, MemorySegment y, long yo, Scratch s, int nmax,
                                         float[] qw, int wo) {
        if (qw == null) {
            scalesAndMins(x, xo, s, nmax);
        } else {
            scalesAndMinsWeighted(x, xo, s, nmax, qw, wo);
        }
        KQuantHeader.put(y, yo, s.dAndMin[0], s.dAndMin[1], s.packedScales, s.packedMins);
    }

    /** The reference: weights {@code av + |x|} of each sub-block, levels against the largest scale and min. */
    private static void scalesAndMins(float[] x, int xo, Scratch s, int nmax) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 32; j++) {
            float averageMagnitude = (float) Math.sqrt(GgmlMath.sumOfSquares(x, xo + 32 * j, 32) / 32);
            for (int l = 0; l < 32; l++) {
                s.weights[l] = averageMagnitude + Math.abs(x[xo + 32 * j + l]);
            }
            s.scales[j] = makeQkx2Quants(32, nmax, x, xo + 32 * j, s.weights, s.levels, 32 * j, s.mins, j,
                    nmax == 15 ? -1.f : -0.5f, 0.1f, nmax == 15 ? 20 : 15, false, s.steps);
            if (s.scales[j] > maxScale) {
                maxScale = s.scales[j];
            }
            if (s.mins[j] > maxMin) {
                maxMin = s.mins[j];
            }
        }
        float inverseScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float inverseMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        for (int j = 0; j < QK_K / 32; j++) {
            // ggml stores nearest_int into a uint8_t before clamping, so a negative value wraps
            s.packedScales[j] = Math.min(63, nearestInt(inverseScale * s.scales[j]) & 0xFF);
            s.packedMins[j] = Math.min(63, nearestInt(inverseMin * s.mins[j]) & 0xFF);
        }
        s.dAndMin[0] = FloatFormats.f32ToF16(maxScale / 63.f);
        s.dAndMin[1] = FloatFormats.f32ToF16(maxMin / 63.f);
    }

    /**
     * With importance: weights {@code qw * sqrt(σ² + x²)} (σ² of the whole super-block), and the levels of the
     * scales and mins from {@code make_qp_quants} under the sub-blocks' weight sums.
     */
    private static void scalesAndMinsWeighted(float[] x, int xo, Scratch s, int nmax, float[] qw, int wo) {
        float sigma2 = 2 * GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
        for (int j = 0; j < QK_K / 32; j++) {
            s.sumWeights[j] = GgmlMath.importanceWeights(x, xo + 32 * j, qw, wo + 32 * j, sigma2, s.weights, 32);
            s.scales[j] = makeQkx2Quants(32, nmax, x, xo + 32 * j, s.weights, s.levels, 32 * j, s.mins, j,
                    -0.9f, 0.05f, 36, false, s.steps);
        }
        float dBlock = makeQpQuants(QK_K / 32, 63, s.scales, 0, s.scaleLevels, 0, s.sumWeights);
        float mBlock = makeQpQuants(QK_K / 32, 63, s.mins, 0, s.minLevels, 0, s.sumWeights);
        for (int j = 0; j < QK_K / 32; j++) {
            // Q5_K clamps its levels to 6 bits; Q4_K stores them as they are, and KQuantHeader packs them as ggml does
            int scale = s.scaleLevels[j] & 0xFF;
            int min = s.minLevels[j] & 0xFF;
            s.packedScales[j] = nmax == 31 ? Math.min(63, scale) : scale;
            s.packedMins[j] = nmax == 31 ? Math.min(63, min) : min;
        }
        s.dAndMin[0] = FloatFormats.f32ToF16(dBlock);
        s.dAndMin[1] = FloatFormats.f32ToF16(mBlock);
    }

    /** Requantizes each 32-weight sub-block against the scale and min its header now holds, as ggml reads them back. */
    private static void requantizeSubBlocks(float[] x, int xo, MemorySegment y, long yo, byte[] levels, int nmax) {
        float d = KQuantHeader.d(y, yo);
        float dmin = KQuantHeader.dmin(y, yo);
        long scales = KQuantHeader.scales(y, yo);
        long mins = KQuantHeader.mins(y, yo);
        for (int j = 0; j < QK_K / 32; j++) {
            float dl = d * ((int) (scales >>> (8 * j)) & 0xFF);
            if (dl == 0) {
                continue;
            }
            float dm = dmin * ((int) (mins >>> (8 * j)) & 0xFF);
            for (int i = 0; i < 32; i++) {
                levels[32 * j + i] = (byte) clamp(nearestInt((x[xo + 32 * j + i] + dm) / dl), 0, nmax);
            }
        }
    }

    /** Q2_K/Q3_K low bits: in each 128-weight half, byte l holds quants l, l+32, l+64, l+96 in bits 0-1, 2-3, 4-5, 6-7. */
    private static void putTwoBitQuants(byte[] levels, MemorySegment y, long offset) {
        for (int half = 0; half < QK_K / 128; half++) {
            int base = 128 * half;
            for (int l = 0; l < 32; l++) {
                putByte(y, offset + 32 * half + l, levels[base + l] | (levels[base + l + 32] << 2)
                        | (levels[base + l + 64] << 4) | (levels[base + l + 96] << 6));
            }
        }
    }
}
