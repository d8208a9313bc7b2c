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
import static glmj.tensor.quantize.GgmlMath.GROUP_MAX_EPS;
import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.makeQ3Quants;
import static glmj.tensor.quantize.GgmlMath.makeQkx2Quants;
import static glmj.tensor.quantize.GgmlMath.makeQxQuants;
import static glmj.tensor.quantize.GgmlMath.nearestInt;

/** The 256-weight super-block quantizers Q2_K to Q6_K and Q8_K ({@code quantize_row_q*_K_ref}). */
public final class KQuantizers {

    private static final int QK_K = 256;


    private KQuantizers() {
    }

    /** Working arrays of one row call, as ggml keeps them on its stack. */
    private static final class Scratch {
        final byte[] levels = new byte[QK_K];
        final byte[] levelsAux = new byte[32];
        final float[] weights = new float[32];
        final float[] scales = new float[QK_K / 16];
        final float[] mins = new float[QK_K / 16];
    }

    public static void q2_K(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        Scratch s = new Scratch();
        byte[] levels = s.levels;
        int[] packedScales = new int[QK_K / 16];
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q2_KBlock.BYTES) {
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < QK_K / 16; j++) {
                for (int l = 0; l < 16; l++) {
                    s.weights[l] = Math.abs(x[xo + 16 * j + l]);
                }
                s.scales[j] = makeQkx2Quants(16, 3, x, xo + 16 * j, s.weights, levels, 16 * j, s.mins, j, s.levelsAux,
                        -0.5f, 0.1f, 15, true);
                if (s.scales[j] > maxScale) {
                    maxScale = s.scales[j];
                }
                if (s.mins[j] > maxMin) {
                    maxMin = s.mins[j];
                }
            }
            short d;
            if (maxScale > 0) {
                float iscale = 15.f / maxScale;
                for (int j = 0; j < QK_K / 16; j++) {
                    packedScales[j] = nearestInt(iscale * s.scales[j]) & 0xFF;
                }
                d = FloatFormats.f32ToF16(maxScale / 15.f);
            } else {
                Arrays.fill(packedScales, 0);
                d = FloatFormats.f32ToF16(0.f);
            }
            short dmin;
            if (maxMin > 0) {
                float iscale = 15.f / maxMin;
                for (int j = 0; j < QK_K / 16; j++) {
                    packedScales[j] = (packedScales[j] | (nearestInt(iscale * s.mins[j]) << 4)) & 0xFF;
                }
                dmin = FloatFormats.f32ToF16(maxMin / 15.f);
            } else {
                dmin = FloatFormats.f32ToF16(0.f);
            }
            for (int j = 0; j < QK_K / 16; j++) {
                float dl = FloatFormats.f16ToF32(d) * (packedScales[j] & 0xF);
                if (dl == 0) {
                    continue;
                }
                float ml = FloatFormats.f16ToF32(dmin) * (packedScales[j] >>> 4);
                for (int i = 0; i < 16; i++) {
                    levels[16 * j + i] = (byte) clamp(nearestInt((x[xo + 16 * j + i] + ml) / dl), 0, 3);
                }
            }
            for (int j = 0; j < QK_K / 16; j++) {
                putByte(y, yo + Q2_KBlock.SCALES_OFFSET + j, packedScales[j]);
            }
            putTwoBitQuants(levels, y, yo + Q2_KBlock.QS_OFFSET);
            putShort(y, yo + Q2_KBlock.D_OFFSET, d);
            putShort(y, yo + Q2_KBlock.DMIN_OFFSET, dmin);
        }
    }

    public static void q3_K(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        Scratch s = new Scratch();
        byte[] levels = s.levels;
        int[] blockScales = new int[QK_K / 16];
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q3_KBlock.BYTES) {
            float maxScale = 0;
            float amax = 0;
            for (int j = 0; j < QK_K / 16; j++) {
                s.scales[j] = makeQ3Quants(16, 4, x, xo + 16 * j, levels, 16 * j);
                float scale = Math.abs(s.scales[j]);
                if (scale > amax) {
                    amax = scale;
                    maxScale = s.scales[j];
                }
            }
            short d;
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < QK_K / 16; j++) {
                    blockScales[j] = clamp((byte) nearestInt(iscale * s.scales[j]), -32, 31);
                }
                d = FloatFormats.f32ToF16(1 / iscale);
            } else {
                Arrays.fill(blockScales, -32); // all-zero scale bits
                d = FloatFormats.f32ToF16(0.f);
            }
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

    public static void q4_K(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        Scratch s = new Scratch();
        byte[] levels = s.levels;
        int[] scaleLevels = new int[QK_K / 32];
        int[] minLevels = new int[QK_K / 32];
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q4_KBlock.BYTES) {
            short[] dAndMin = quantizeScalesAndMins(x, xo, s, 15, -1.f, 20, scaleLevels, minLevels);
            for (int j = 0; j < QK_K / 32; j++) {
                requantize(x, xo + 32 * j, levels, 32 * j, dAndMin, scaleLevels[j], minLevels[j], 15);
            }
            KQuantHeader.put(y, yo, dAndMin[0], dAndMin[1], scaleLevels, minLevels);
            for (int chunk = 0; chunk < QK_K / 64; chunk++) {
                for (int l = 0; l < 32; l++) {
                    int low = levels[64 * chunk + l];
                    int high = levels[64 * chunk + 32 + l];
                    putByte(y, yo + Q4_KBlock.QS_OFFSET + 32 * chunk + l, low | (high << 4));
                }
            }
        }
    }

    public static void q5_K(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        Scratch s = new Scratch();
        byte[] levels = s.levels;
        int[] scaleLevels = new int[QK_K / 32];
        int[] minLevels = new int[QK_K / 32];
        int[] highBits = new int[32];
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q5_KBlock.BYTES) {
            short[] dAndMin = quantizeScalesAndMins(x, xo, s, 31, -0.5f, 15, scaleLevels, minLevels);
            for (int j = 0; j < QK_K / 32; j++) {
                requantize(x, xo + 32 * j, levels, 32 * j, dAndMin, scaleLevels[j], minLevels[j], 31);
            }
            KQuantHeader.put(y, yo, dAndMin[0], dAndMin[1], scaleLevels, minLevels);
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

    public static void q6_K(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        Scratch s = new Scratch();
        byte[] levels = s.levels;
        byte[] blockScales = new byte[QK_K / 16];
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q6_KBlock.BYTES) {
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                float scale = makeQxQuants(16, 32, x, xo + 16 * ib, levels, 16 * ib);
                s.scales[ib] = scale;
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                y.asSlice(yo, Q6_KBlock.BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -128.f / maxScale;
            short d = FloatFormats.f32ToF16(1 / iscale);
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

    public static void q8_K(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK_K, yo += Q8_KBlock.BYTES) {
            float max = GgmlMath.signedMaxByMagnitude(x, xo, QK_K);
            if (max == 0) {
                y.asSlice(yo, Q8_KBlock.BYTES).fill((byte) 0);
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
     * The first half of the Q4_K/Q5_K reference: a {@code make_qkx2_quants} fit per 32-weight sub-block, then the
     * sub-block scales and mins quantized to 6 bits against their maxima. Returns the f16 {@code {d, dmin}}.
     */
    private static short[] quantizeScalesAndMins(float[] x, int xo, Scratch s, int nmax, float rmin, int nstep,
                                                 int[] scaleLevels, int[] minLevels) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 32; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                float v = x[xo + 32 * j + l];
                sumX2 += v * v;
            }
            float averageMagnitude = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                s.weights[l] = averageMagnitude + Math.abs(x[xo + 32 * j + l]);
            }
            s.scales[j] = makeQkx2Quants(32, nmax, x, xo + 32 * j, s.weights, s.levels, 32 * j, s.mins, j, s.levelsAux,
                    rmin, 0.1f, nstep, false);
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
            scaleLevels[j] = Math.min(63, nearestInt(inverseScale * s.scales[j]) & 0xFF);
            minLevels[j] = Math.min(63, nearestInt(inverseMin * s.mins[j]) & 0xFF);
        }
        return new short[] {FloatFormats.f32ToF16(maxScale / 63.f), FloatFormats.f32ToF16(maxMin / 63.f)};
    }

    /** Requantizes one 32-weight sub-block against its final (f16-rounded) scale and min. */
    private static void requantize(float[] x, int xo, byte[] levels, int levelOffset, short[] dAndMin, int scaleLevel,
                                   int minLevel, int nmax) {
        float d = FloatFormats.f16ToF32(dAndMin[0]) * scaleLevel;
        if (d == 0) {
            return;
        }
        float dm = FloatFormats.f16ToF32(dAndMin[1]) * minLevel;
        for (int i = 0; i < 32; i++) {
            levels[levelOffset + i] = (byte) clamp(nearestInt((x[xo + i] + dm) / d), 0, nmax);
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
