package glmj.tensor.quantize;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.IQ2_SBlock;
import glmj.tensor.blocks.IQ2_XSBlock;
import glmj.tensor.blocks.IQ2_XXSBlock;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static glmj.tensor.quantize.BlockIo.putByte;
import static glmj.tensor.quantize.BlockIo.putInt;
import static glmj.tensor.quantize.BlockIo.putLong;
import static glmj.tensor.quantize.BlockIo.putShort;
import static glmj.tensor.quantize.BlockIo.putZeros;
import static glmj.tensor.quantize.GgmlMath.GROUP_MAX_EPS;
import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.nearestInt;
import static glmj.tensor.quantize.GridScaleSearch.Refit;

/**
 * The 2-bit lattice quantizers IQ2_XXS, IQ2_XS and IQ2_S ({@code quantize_row_iq2_*_impl}): groups of 8 weight
 * magnitudes become points of an E8-lattice grid (levels 0-2, values 1, 3, 5), with signs stored apart, a 4-bit
 * scale per 32 (IQ2_XXS) or 16 weights and an f16 scale per 256. IQ2_XXS and IQ2_XS need an importance matrix;
 * with one a call covers one row and {@code importance[i]} weighs its column i.
 */
final class IQ2Quantizers {

    private static final int QK_K = 256;
    private static final int K_MAX_Q = 3;
    /** ggml's {@code GROUP_MAX_EPS_IQ2_S}. */
    private static final float GROUP_MAX_EPS_IQ2_S = 1e-8f;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private IQ2Quantizers() {
    }

    private static final class Scratch {
        final float[] scales = new float[QK_K / 16];
        final float[] weight = new float[32];
        final float[] waux = new float[32];
        final float[] xval = new float[32];
        final byte[] levels = new byte[32];
        final byte[] levelsAux = new byte[32];
        final boolean[] onGrid = new boolean[4];
        final boolean[] onGridAux = new boolean[4];
        final int[] signs = new int[4];
        final int[] words = new int[QK_K / 8];
    }

    /** IQ2_XXS: groups of 32, scale from {@code make_qp_quants} refined over 13 candidates; 7-bit even-parity signs. */
    static void iq2_xxs(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq2xxs();
        Scratch s = SCRATCH.get();
        int[] q2 = s.words; // two words per group: 4 grid index bytes, then 4 sign codes and the scale
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ2_XXSBlock.BYTES) {
            Arrays.fill(q2, 0);
            float maxScale = 0;
            float sigma2 = KQuantizers.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                int xb = xo + 32 * ib;
                KQuantizers.importanceWeights(x, xb, importance, QK_K * ibl + 32 * ib, sigma2, s.weight, 32);
                squareRoots(s.weight, s.waux, 32);
                for (int k = 0; k < 4; k++) {
                    s.signs[k] = GridScaleSearch.foldSigns(x, xb, s.xval, s.weight, 8 * k, true) & 127;
                }
                float max = GridScaleSearch.max(s.xval, 32);
                if (max < GROUP_MAX_EPS) {
                    s.scales[ib] = 0;
                    continue;
                }
                float scale = GgmlMath.makeQpQuants(32, K_MAX_Q + 1, s.xval, 0, s.levels, 0, s.weight);
                float effMax = scale * K_MAX_Q;
                if (effMax <= 0) {
                    s.scales[ib] = 0;
                    continue;
                }
                scale = GridScaleSearch.search(grid, 32, K_MAX_Q, s.xval, s.weight, s.waux, s.levels, s.levelsAux,
                        s.onGrid, s.onGridAux, effMax, scale, true, 6, 0.1f, Refit.ALL_GROUPS);
                if (scale < 0) {
                    // ggml: should never happen, but flip scale and signs so the stored scale stays positive
                    scale = -scale;
                    for (int k = 0; k < 4; k++) {
                        s.signs[k] = ~s.signs[k] & 127;
                    }
                }
                for (int k = 0; k < 4; k++) {
                    q2[2 * ib] |= GridScaleSearch.onGridIndex(grid, s.levels, k) << (8 * k);
                    q2[2 * ib + 1] |= s.signs[k] << (7 * k);
                }
                s.scales[ib] = scale;
                maxScale = maxScale > scale ? maxScale : scale;
            }
            if (maxScale == 0) {
                putZeros(y, yo, IQ2_XXSBlock.BYTES);
                continue;
            }
            float d = maxScale / 31;
            putShort(y, yo + IQ2_XXSBlock.D_OFFSET, FloatFormats.f32ToF16(d));
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                q2[2 * ib + 1] |= scaleLevel(id, s.scales[ib]) << 28;
            }
            for (int i = 0; i < QK_K / 16; i++) {
                putInt(y, yo + IQ2_XXSBlock.QS_OFFSET + 4L * i, q2[i]);
            }
        }
    }

    /** IQ2_XS: groups of 16, a 19-candidate scale search; per 8 weights a 9-bit grid index and 7-bit even-parity signs. */
    static void iq2_xs(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq2xs();
        Scratch s = SCRATCH.get();
        int[] q2 = s.words; // per run of 8 weights: grid index | signs << 9
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ2_XSBlock.BYTES) {
            Arrays.fill(q2, 0);
            float maxScale = 0;
            float sigma2 = KQuantizers.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                int xb = xo + 16 * ib;
                KQuantizers.importanceWeights(x, xb, importance, QK_K * ibl + 16 * ib, sigma2, s.weight, 16);
                squareRoots(s.weight, s.waux, 16);
                for (int k = 0; k < 2; k++) {
                    s.signs[k] = GridScaleSearch.foldSigns(x, xb, s.xval, s.weight, 8 * k, true) & 127;
                }
                float max = GridScaleSearch.max(s.xval, 16);
                Arrays.fill(s.levels, 0, 16, (byte) 0);
                if (max < GROUP_MAX_EPS) {
                    s.scales[ib] = 0;
                    continue;
                }
                float scale = GridScaleSearch.search(grid, 16, K_MAX_Q, s.xval, s.weight, s.waux, s.levels,
                        s.levelsAux, s.onGrid, s.onGridAux, max, max / (2 * K_MAX_Q - 1), true, 9, 0.1f,
                        Refit.OFF_GRID_GROUPS);
                if (scale < 0) {
                    scale = -scale;
                    for (int k = 0; k < 2; k++) {
                        s.signs[k] = ~s.signs[k] & 127;
                    }
                }
                for (int k = 0; k < 2; k++) {
                    q2[2 * ib + k] = GridScaleSearch.onGridIndex(grid, s.levels, k) | (s.signs[k] << 9);
                }
                s.scales[ib] = scale;
                maxScale = maxScale > scale ? maxScale : scale;
            }
            if (maxScale == 0) {
                putZeros(y, yo, IQ2_XSBlock.BYTES);
                continue;
            }
            float d = maxScale / 31;
            putShort(y, yo + IQ2_XSBlock.D_OFFSET, FloatFormats.f32ToF16(d));
            putScaleNibbles(y, yo + IQ2_XSBlock.SCALES_OFFSET, 1 / d, s.scales);
            for (int i = 0; i < QK_K / 8; i++) {
                putShort(y, yo + IQ2_XSBlock.QS_OFFSET + 2L * i, (short) q2[i]);
            }
        }
    }

    /**
     * IQ2_S: groups of 16 on a 1024-point grid (10-bit indices), plain 8-bit signs, a 19-candidate scale search;
     * without importance the weights are {@code σ²/4 + x²}.
     */
    static void iq2_s(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq2s();
        Scratch s = SCRATCH.get();
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ2_SBlock.BYTES) {
            putZeros(y, yo, IQ2_SBlock.BYTES);
            long qh = 0; // the 8 qh bytes: bits 8-9 of run r's grid index at bit 2 (r % 4) of byte r / 4
            float maxScale = 0;
            float sigma2 = 2 * KQuantizers.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                int xb = xo + 16 * ib;
                if (importance != null) {
                    KQuantizers.importanceWeights(x, xb, importance, QK_K * ibl + 16 * ib, sigma2, s.weight, 16);
                } else {
                    for (int i = 0; i < 16; i++) {
                        s.weight[i] = 0.25f * sigma2 + x[xb + i] * x[xb + i];
                    }
                }
                squareRoots(s.weight, s.waux, 16);
                for (int k = 0; k < 2; k++) {
                    s.signs[k] = GridScaleSearch.foldSigns(x, xb, s.xval, s.weight, 8 * k, false);
                }
                float max = GridScaleSearch.max(s.xval, 16);
                Arrays.fill(s.levels, 0, 16, (byte) 0);
                if (max < GROUP_MAX_EPS_IQ2_S) {
                    s.scales[ib] = 0;
                    continue;
                }
                float scale = GridScaleSearch.search(grid, 16, K_MAX_Q, s.xval, s.weight, s.waux, s.levels,
                        s.levelsAux, s.onGrid, s.onGridAux, max, max / (2 * K_MAX_Q - 1), true, 9, 0.1f,
                        Refit.OFF_GRID_GROUPS);
                if (scale < 0) {
                    scale = -scale;
                    for (int k = 0; k < 2; k++) {
                        s.signs[k] = ~s.signs[k] & 0xFF;
                    }
                }
                for (int k = 0; k < 2; k++) {
                    int run = 2 * ib + k;
                    int index = GridScaleSearch.onGridIndex(grid, s.levels, k);
                    putByte(y, yo + IQ2_SBlock.QS_OFFSET + run, index);
                    qh |= (long) (index >> 8) << (8 * (run / 4) + 2 * (run % 4));
                    putByte(y, yo + IQ2_SBlock.SIGNS_OFFSET + run, s.signs[k]);
                }
                s.scales[ib] = scale;
                maxScale = maxScale > scale ? maxScale : scale;
            }
            putLong(y, yo + IQ2_SBlock.QH_OFFSET, qh);
            if (maxScale == 0) {
                continue;
            }
            float d = maxScale / 31;
            putShort(y, yo + IQ2_SBlock.D_OFFSET, FloatFormats.f32ToF16(d * 0.9875f));
            putScaleNibbles(y, yo + IQ2_SBlock.SCALES_OFFSET, 1 / d, s.scales);
        }
    }

    /** The 4-bit level of a group scale: {@code (scale / d - 1) / 2}, rounded and clamped. */
    static int scaleLevel(float id, float scale) {
        return clamp(nearestInt(0.5f * (id * scale - 1)), 0, 15);
    }

    /** The 16 scale levels of a super-block, two per byte, the even group in the low nibble. */
    private static void putScaleNibbles(MemorySegment y, long offset, float id, float[] scales) {
        for (int ib = 0; ib < QK_K / 16; ib += 2) {
            putByte(y, offset + ib / 2, scaleLevel(id, scales[ib]) | (scaleLevel(id, scales[ib + 1]) << 4));
        }
    }

    /** {@code roots[i] = sqrt(values[i])} for the first {@code n}, in float as ggml's {@code sqrtf}. */
    static void squareRoots(float[] values, float[] roots, int n) {
        for (int i = 0; i < n; i++) {
            roots[i] = (float) Math.sqrt(values[i]);
        }
    }
}
