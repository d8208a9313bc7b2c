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
import static glmj.tensor.quantize.GridScaleSearch.Refit;

/**
 * The 2-bit lattice quantizers IQ2_XXS, IQ2_XS and IQ2_S ({@code quantize_row_iq2_*_impl}): groups of 8 weight
 * magnitudes become points of an E8-lattice grid (levels 0-2, values 1, 3, 5), with signs stored apart, a 4-bit
 * scale per 32 (IQ2_XXS) or 16 weights and an f16 scale per 256. IQ2_XXS and IQ2_XS need an importance matrix;
 * with one a call covers one row and {@code importance[i]} weighs its column i.
 */
public final class IQ2Quantizers {

    private static final int QK_K = 256;
    private static final int K_MAX_Q = 3;
    /** ggml's {@code GROUP_MAX_EPS_IQ2_S}. */
    private static final float GROUP_MAX_EPS_IQ2_S = 1e-8f;

    private static final GridScaleSearch.Spec IQ2_XXS = new GridScaleSearch.Spec(32, K_MAX_Q, true, GROUP_MAX_EPS,
            true, 6, 0.1f, Refit.ALL_GROUPS);
    private static final GridScaleSearch.Spec IQ2_XS = new GridScaleSearch.Spec(16, K_MAX_Q, true, GROUP_MAX_EPS,
            true, 9, 0.1f, Refit.OFF_GRID_GROUPS);
    private static final GridScaleSearch.Spec IQ2_S = new GridScaleSearch.Spec(16, K_MAX_Q, false, GROUP_MAX_EPS_IQ2_S,
            true, 9, 0.1f, Refit.OFF_GRID_GROUPS);

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private IQ2Quantizers() {
    }

    private static final class Scratch {
        final GridScaleSearch group = new GridScaleSearch();
        final float[] scales = new float[QK_K / 16];
        final int[] words = new int[QK_K / 8];
    }

    /**
     * IQ2_XXS: groups of 32 whose first scale comes from {@code make_qp_quants}, refined over 13 candidates against
     * that scale's maximum; four 8-bit grid indices and four 7-bit even-parity sign codes per group.
     */
    public static void iq2_xxs(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq2xxs();
        Scratch s = SCRATCH.get();
        GridScaleSearch group = s.group;
        int[] q2 = s.words; // two words per group: 4 grid index bytes, then 4 sign codes and the scale
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ2_XXSBlock.BYTES) {
            Arrays.fill(q2, 0);
            float maxScale = 0;
            float sigma2 = GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                int xb = xo + 32 * ib;
                GgmlMath.importanceWeights(x, xb, importance, QK_K * ibl + 32 * ib, sigma2, group.weight, 32);
                float max = group.foldSigns(IQ2_XXS, x, xb);
                if (max < GROUP_MAX_EPS) {
                    s.scales[ib] = 0;
                    continue;
                }
                float scale = GgmlMath.makeQpQuants(32, K_MAX_Q + 1, group.xval, 0, group.levels, 0, group.weight);
                float effMax = scale * K_MAX_Q;
                if (effMax <= 0) {
                    s.scales[ib] = 0;
                    continue;
                }
                group.scale = group.search(grid, IQ2_XXS, effMax, scale);
                group.flipNegativeScale(IQ2_XXS);
                for (int k = 0; k < 4; k++) {
                    q2[2 * ib] |= group.gridIndex(grid, k) << (8 * k);
                    q2[2 * ib + 1] |= group.signs[k] << (7 * k);
                }
                s.scales[ib] = group.scale;
                maxScale = maxScale > group.scale ? maxScale : group.scale;
            }
            if (maxScale == 0) {
                putZeros(y, yo, IQ2_XXSBlock.BYTES);
                continue;
            }
            float d = maxScale / 31;
            putShort(y, yo + IQ2_XXSBlock.D_OFFSET, FloatFormats.f32ToF16(d));
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                q2[2 * ib + 1] |= GridScaleSearch.scaleLevel(id, s.scales[ib]) << 28;
            }
            for (int i = 0; i < QK_K / 16; i++) {
                putInt(y, yo + IQ2_XXSBlock.QS_OFFSET + 4L * i, q2[i]);
            }
        }
    }

    /** IQ2_XS: groups of 16; per 8 weights a 9-bit grid index and a 7-bit even-parity sign code. */
    public static void iq2_xs(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq2xs();
        Scratch s = SCRATCH.get();
        GridScaleSearch group = s.group;
        int[] q2 = s.words; // per run of 8 weights: grid index | signs << 9
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ2_XSBlock.BYTES) {
            Arrays.fill(q2, 0);
            float maxScale = 0;
            float sigma2 = GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                int xb = xo + 16 * ib;
                GgmlMath.importanceWeights(x, xb, importance, QK_K * ibl + 16 * ib, sigma2, group.weight, 16);
                if (!group.fit(grid, IQ2_XS, x, xb)) {
                    s.scales[ib] = 0;
                    continue;
                }
                for (int k = 0; k < 2; k++) {
                    q2[2 * ib + k] = group.gridIndex(grid, k) | (group.signs[k] << 9);
                }
                s.scales[ib] = group.scale;
                maxScale = maxScale > group.scale ? maxScale : group.scale;
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
     * IQ2_S: groups of 16 on a 1024-point grid (10-bit indices), plain 8-bit signs; without importance the weights
     * are {@code σ²/4 + x²}.
     */
    public static void iq2_s(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq2s();
        Scratch s = SCRATCH.get();
        GridScaleSearch group = s.group;
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ2_SBlock.BYTES) {
            putZeros(y, yo, IQ2_SBlock.BYTES);
            long qh = 0; // the 8 qh bytes: bits 8-9 of run r's grid index at bit 2 (r % 4) of byte r / 4
            float maxScale = 0;
            float sigma2 = 2 * GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                int xb = xo + 16 * ib;
                if (importance != null) {
                    GgmlMath.importanceWeights(x, xb, importance, QK_K * ibl + 16 * ib, sigma2, group.weight, 16);
                } else {
                    for (int i = 0; i < 16; i++) {
                        group.weight[i] = 0.25f * sigma2 + x[xb + i] * x[xb + i];
                    }
                }
                if (!group.fit(grid, IQ2_S, x, xb)) {
                    s.scales[ib] = 0;
                    continue;
                }
                for (int k = 0; k < 2; k++) {
                    int run = 2 * ib + k;
                    int index = group.gridIndex(grid, k);
                    putByte(y, yo + IQ2_SBlock.QS_OFFSET + run, index);
                    qh |= (long) (index >> 8) << (8 * (run / 4) + 2 * (run % 4));
                    putByte(y, yo + IQ2_SBlock.SIGNS_OFFSET + run, group.signs[k]);
                }
                s.scales[ib] = group.scale;
                maxScale = maxScale > group.scale ? maxScale : group.scale;
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

    /** The 16 scale levels of a super-block, two per byte, the even group in the low nibble. */
    private static void putScaleNibbles(MemorySegment y, long offset, float id, float[] scales) {
        for (int ib = 0; ib < QK_K / 16; ib += 2) {
            putByte(y, offset + ib / 2, GridScaleSearch.scaleLevel(id, scales[ib]) | (GridScaleSearch.scaleLevel(id, scales[ib + 1]) << 4));
        }
    }
}
