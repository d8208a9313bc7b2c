package glmj.tensor.quantize;

import java.util.Arrays;

import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.nearestInt;

/**
 * The scale search the IQ2 and IQ3 quantizers share: for candidate scales, each group of weight magnitudes takes
 * the levels {@code l} nearest to {@code (x/scale - 1) / 2} (points {@code 2l + 1}), or the best neighbouring grid
 * point when those levels are off the grid; the candidate whose least-squares scale explains the most weighted
 * energy wins; then groups are refitted against the winning scale and the scale fitted once more.
 */
final class GridScaleSearch {

    /** Which groups the final refit redoes; ggml's quantizers differ here. */
    enum Refit {
        /** The groups the winning candidate had off the grid, when there are any (IQ2_XS, IQ2_S, IQ3_XXS). */
        OFF_GRID_GROUPS,
        /** Every group, when any group of the winning candidate was off the grid (IQ3_S). */
        ALL_GROUPS_IF_ANY_OFF_GRID,
        /** Every group, always (IQ2_XXS). */
        ALL_GROUPS
    }

    private GridScaleSearch() {
    }

    /**
     * Fits the {@code n} non-negative {@code xval} (weights {@code weight}, neighbour weights {@code waux}) to
     * {@code grid}: candidate inverse scales {@code ((2 kMaxQ - 1) + is * step) / divisor} for is in
     * {@code [-steps, steps]}, starting from {@code scale} and the levels already in {@code levels}. Leaves the
     * chosen levels in {@code levels} and returns the scale (ggml's scale may come out negative, its callers flip it).
     */
    static float search(IQGridSearch grid, int n, int kMaxQ, float[] xval, float[] weight, float[] waux,
                        byte[] levels, byte[] levelsAux, boolean[] onGrid, boolean[] onGridAux, float divisor,
                        float scale, boolean initiallyOnGrid, int steps, float step, Refit refit) {
        int dimension = grid.dimension;
        int groups = n / dimension;
        Arrays.fill(onGrid, 0, groups, initiallyOnGrid);
        float best = 0;
        for (int is = -steps; is <= steps; is++) {
            float id = ((2 * kMaxQ - 1) + is * step) / divisor;
            float thisScale = 1 / id;
            for (int k = 0; k < groups; k++) {
                int from = dimension * k;
                for (int i = 0; i < dimension; i++) {
                    levelsAux[from + i] = (byte) clamp(nearestInt(0.5f * (id * xval[from + i] - 1)), 0, kMaxQ - 1);
                }
                int vector = grid.vector(levelsAux, from);
                onGridAux[k] = grid.gridIndex(vector) >= 0;
                if (!onGridAux[k]) {
                    grid.bestNeighbour(vector, xval, from, waux, from, thisScale, levelsAux, from);
                }
            }
            float sumqx = 0;
            float sumq2 = 0;
            for (int i = 0; i < n; i++) {
                float w = weight[i];
                float q = 2 * levelsAux[i] + 1;
                sumqx += w * xval[i] * q;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                scale = sumqx / sumq2;
                best = scale * sumqx;
                System.arraycopy(levelsAux, 0, levels, 0, n);
                System.arraycopy(onGridAux, 0, onGrid, 0, groups);
            }
        }
        boolean anyOffGrid = false;
        for (int k = 0; k < groups; k++) {
            anyOffGrid |= !onGrid[k];
        }
        if (scale > 0 && (refit == Refit.ALL_GROUPS || anyOffGrid)) {
            float id = 1 / scale;
            for (int k = 0; k < groups; k++) {
                if (refit == Refit.OFF_GRID_GROUPS && onGrid[k]) {
                    continue;
                }
                int from = dimension * k;
                for (int i = 0; i < dimension; i++) {
                    levels[from + i] = (byte) clamp(nearestInt(0.5f * (id * xval[from + i] - 1)), 0, kMaxQ - 1);
                }
                int vector = grid.vector(levels, from);
                if (grid.gridIndex(vector) < 0) {
                    grid.bestNeighbour(vector, xval, from, waux, from, scale, levels, from);
                }
            }
            float sumqx = 0;
            float sumq2 = 0;
            for (int i = 0; i < n; i++) {
                float w = weight[i];
                float q = 2 * levels[i] + 1;
                sumqx += w * xval[i] * q;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0) {
                scale = sumqx / sumq2;
            }
        }
        return scale;
    }

    /** The grid index of the levels of group {@code k}, which must lie on the grid (ggml aborts otherwise). */
    static int onGridIndex(IQGridSearch grid, byte[] levels, int k) {
        int vector = grid.vector(levels, grid.dimension * k);
        int index = grid.gridIndex(vector);
        if (index < 0) {
            throw new IllegalStateException("levels " + vector + " of group " + k + " are not on the grid");
        }
        return index;
    }

    /**
     * Folds the signs of {@code x[xo, xo + 8 groups)} into {@code xval} (magnitudes) and returns the 8 sign bits
     * of a group of 8 (bit i set when x[i] is negative). With {@code evenParity} the count of negatives is made even,
     * as the 7-bit sign codes of IQ2_XXS, IQ2_XS and IQ3_XXS require: the element whose flip costs least
     * ({@code weight * x²}) keeps its sign unflipped in {@code xval}, negated.
     */
    static int foldSigns(float[] x, int xo, float[] xval, float[] weight, int from, boolean evenParity) {
        int flips = 0;
        int signs = 0;
        for (int i = 0; i < 8; i++) {
            float v = x[xo + from + i];
            if (v >= 0) {
                xval[from + i] = v;
            } else {
                xval[from + i] = -v;
                flips++;
                signs |= 1 << i;
            }
        }
        if (evenParity && flips % 2 != 0) {
            int imin = 0;
            float v0 = x[xo + from];
            float min = weight[from] * v0 * v0;
            for (int i = 1; i < 8; i++) {
                float v = x[xo + from + i];
                float ax = weight[from + i] * v * v;
                if (ax < min) {
                    min = ax;
                    imin = i;
                }
            }
            xval[from + imin] = -xval[from + imin];
            signs ^= 1 << imin;
        }
        return signs;
    }

    /** C's {@code MAX} over {@code values[0, n)}: {@code a > b ? a : b} from the first, which a NaN ends on. */
    static float max(float[] values, int n) {
        float max = values[0];
        for (int i = 1; i < n; i++) {
            max = max > values[i] ? max : values[i];
        }
        return max;
    }
}
