package glmj.tensor.quantize;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.IQ3_SBlock;
import glmj.tensor.blocks.IQ3_XXSBlock;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static glmj.tensor.quantize.BlockIo.putByte;
import static glmj.tensor.quantize.BlockIo.putInt;
import static glmj.tensor.quantize.BlockIo.putLong;
import static glmj.tensor.quantize.BlockIo.putShort;
import static glmj.tensor.quantize.BlockIo.putZeros;
import static glmj.tensor.quantize.GridScaleSearch.Refit;

/**
 * The 3-bit lattice quantizers IQ3_XXS and IQ3_S ({@code quantize_row_iq3_xxs_impl}, {@code quantize_row_iq3_s_impl}):
 * groups of 4 weight magnitudes become points of a D4-lattice grid (levels 0-7), signs stored apart, a 4-bit scale
 * per 32 weights and an f16 scale per 256. Without an importance matrix the weights are x²; with one a call covers
 * one row and {@code importance[i]} weighs its column i.
 */
public final class IQ3Quantizers {

    private static final int QK_K = 256;
    private static final int K_MAX_Q = 8;
    /** ggml's {@code GROUP_MAX_EPS_IQ3_XXS}. */
    private static final float GROUP_MAX_EPS_IQ3_XXS = 1e-8f;

    private static final GridScaleSearch.Spec IQ3_XXS = new GridScaleSearch.Spec(32, K_MAX_Q, true,
            GROUP_MAX_EPS_IQ3_XXS, true, 15, 0.2f, Refit.OFF_GRID_GROUPS);
    /** ggml skips only groups whose largest magnitude is 0: below the smallest float above 0. */
    private static final GridScaleSearch.Spec IQ3_S = new GridScaleSearch.Spec(32, K_MAX_Q, false, Float.MIN_VALUE,
            false, 9, 0.2f, Refit.ALL_GROUPS_IF_ANY_OFF_GRID);

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private IQ3Quantizers() {
    }

    private static final class Scratch {
        final GridScaleSearch group = new GridScaleSearch();
        final float[] scales = new float[QK_K / 32];
        final byte[] indices = new byte[QK_K / 4];
        final int[] scalesAndSigns = new int[QK_K / 32];
    }

    /** IQ3_XXS: a byte grid index per 4 weights, per 32 a word of four 7-bit even-parity sign codes and the scale. */
    public static void iq3_xxs(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq3xxs();
        Scratch s = SCRATCH.get();
        GridScaleSearch group = s.group;
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ3_XXSBlock.BYTES) {
            Arrays.fill(s.indices, (byte) 0);
            Arrays.fill(s.scalesAndSigns, 0);
            float maxScale = 0;
            float sigma2 = 2 * GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                int xb = xo + 32 * ib;
                weights(x, xb, importance, QK_K * ibl + 32 * ib, sigma2, group.weight);
                if (!group.fit(grid, IQ3_XXS, x, xb)) {
                    s.scales[ib] = 0;
                    continue;
                }
                for (int k = 0; k < 8; k++) {
                    s.indices[8 * ib + k] = (byte) group.gridIndex(grid, k);
                }
                int[] signs = group.signs;
                s.scalesAndSigns[ib] = signs[0] | (signs[1] << 7) | (signs[2] << 14) | (signs[3] << 21);
                s.scales[ib] = group.scale;
                maxScale = maxScale > group.scale ? maxScale : group.scale;
            }
            if (maxScale == 0) {
                putZeros(y, yo, IQ3_XXSBlock.BYTES);
                continue;
            }
            float d = maxScale / 31;
            putShort(y, yo + IQ3_XXSBlock.D_OFFSET, FloatFormats.f32ToF16(d * 1.0125f));
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                int word = s.scalesAndSigns[ib] | (GridScaleSearch.scaleLevel(id, s.scales[ib]) << 28);
                putInt(y, yo + IQ3_XXSBlock.SCALES_AND_SIGNS_OFFSET + 4L * ib, word);
            }
            for (int i = 0; i < QK_K / 4; i++) {
                putByte(y, yo + IQ3_XXSBlock.QS_OFFSET + i, s.indices[i]);
            }
        }
    }

    /**
     * IQ3_S: 9-bit grid indices (low byte in qs, high bit in qh), plain 8-bit signs, 4-bit scales in pairs. As in
     * ggml, the qs and signs of an all-zero group of 32 are skipped rather than left zero: the groups after it are
     * written that much earlier in the block.
     */
    public static void iq3_s(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq3s();
        Scratch s = SCRATCH.get();
        GridScaleSearch group = s.group;
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ3_SBlock.BYTES) {
            putZeros(y, yo, IQ3_SBlock.BYTES);
            long qs = yo + IQ3_SBlock.QS_OFFSET;
            long signs = yo + IQ3_SBlock.SIGNS_OFFSET;
            long qh = 0; // bit 8 of group g's grid index at bit g % 8 of byte g / 8
            float maxScale = 0;
            float sigma2 = 2 * GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                int xb = xo + 32 * ib;
                weights(x, xb, importance, QK_K * ibl + 32 * ib, sigma2, group.weight);
                if (!group.fit(grid, IQ3_S, x, xb)) {
                    s.scales[ib] = 0;
                    continue;
                }
                for (int k = 0; k < 8; k++) {
                    int index = group.gridIndex(grid, k);
                    putByte(y, qs + k, index);
                    qh |= (long) (index >> 8) << (8 * ib + k);
                }
                qs += 8;
                for (int k = 0; k < 4; k++) {
                    putByte(y, signs + k, group.signs[k]);
                }
                signs += 4;
                s.scales[ib] = group.scale;
                maxScale = maxScale > group.scale ? maxScale : group.scale;
            }
            putLong(y, yo + IQ3_SBlock.QH_OFFSET, qh);
            if (maxScale == 0) {
                continue;
            }
            float d = maxScale / 31;
            putShort(y, yo + IQ3_SBlock.D_OFFSET, FloatFormats.f32ToF16(d * 1.033f));
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 32; ib += 2) {
                int pair = GridScaleSearch.scaleLevel(id, s.scales[ib]) | (GridScaleSearch.scaleLevel(id, s.scales[ib + 1]) << 4);
                putByte(y, yo + IQ3_SBlock.SCALES_OFFSET + ib / 2, pair);
            }
        }
    }

    /** The weights of 32 weights: x² without importance, else {@code qw * sqrt(σ² + x²)}. */
    private static void weights(float[] x, int xb, float[] qw, int wo, float sigma2, float[] weight) {
        if (qw != null) {
            GgmlMath.importanceWeights(x, xb, qw, wo, sigma2, weight, 32);
        } else {
            for (int i = 0; i < 32; i++) {
                weight[i] = x[xb + i] * x[xb + i];
            }
        }
    }
}
