package glmj.tensor.quantize;

import java.util.Arrays;

import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.nearestInt;

/**
 * The fit of a group of weights (16 or 32) that the IQ2 and IQ3 quantizers share. The signs are folded off, then
 * for candidate scales each run of magnitudes takes the levels {@code l} nearest to {@code (x/scale - 1) / 2}
 * (points {@code 2l + 1}), or the best neighbouring grid point when those levels are off the grid; the candidate
 * whose least-squares scale explains the most weighted energy wins; then runs are refitted against the winning scale
 * and the scale fitted once more. An instance is one thread's workspace: the caller fills {@link #weight} first.
 */
final class GridScaleSearch {

    /**
     * How a quantizer fits its groups: {@code size} weights with levels below {@code kMaxQ}, 7-bit signs of even
     * parity or 8 plain bits, groups whose largest magnitude is below {@code epsilon} skipped, candidate inverse
     * scales {@code ((2 kMaxQ - 1) + is * step) / max} for is in {@code [-steps, steps]}.
     */
    record Spec(int size, int kMaxQ, boolean evenParity, float epsilon, boolean initiallyOnGrid, int steps, float step,
                Refit refit) {
        int signMask() {
            return evenParity ? 127 : 0xFF;
        }
    }

    /** The group's weights, set by the caller before {@link #fit}. */
    final float[] weight = new float[32];
    /** Their square roots, which weigh the neighbour search. */
    final float[] waux = new float[32];
    /** The magnitudes, signs folded off. */
    final float[] xval = new float[32];
    /** The fitted levels. */
    final byte[] levels = new byte[32];
    /** The sign bits of each run of 8. */
    final int[] signs = new int[4];
    /** The fitted scale, non-negative. */
    float scale;
    private final byte[] levelsAux = new byte[32];
    private final boolean[] onGrid = new boolean[8];
    private final boolean[] onGridAux = new boolean[8];
    /** The sums of {@link #fitSums}. */
    private float sumqx;
    private float sumq2;

    /**
     * Fits the group {@code x[xb, xb + spec.size)} to {@code grid}; false when it is below the spec's epsilon
     * (nothing to store). After a fit {@link #levels} lie on the grid, {@link #signs} hold the signs and
     * {@link #scale} is non-negative (ggml flips a negative scale and the signs with it).
     */
    boolean fit(IQGridSearch grid, Spec spec, float[] x, int xb) {
        float max = foldSigns(spec, x, xb);
        Arrays.fill(levels, 0, spec.size(), (byte) 0);
        if (max < spec.epsilon()) {
            return false;
        }
        scale = search(grid, spec, max, max / (2 * spec.kMaxQ() - 1));
        flipNegativeScale(spec);
        return true;
    }

    /** Computes {@link #waux}, folds the signs of the group into {@link #signs} and {@link #xval}; returns the largest magnitude. */
    float foldSigns(Spec spec, float[] x, int xb) {
        squareRoots(weight, waux, spec.size());
        for (int k = 0; k < spec.size() / 8; k++) {
            signs[k] = foldSigns(x, xb, xval, weight, 8 * k, spec.evenParity()) & spec.signMask();
        }
        return max(xval, spec.size());
    }

    /** ggml: "should never happen", but a negative scale is flipped with the signs, so the stored scale stays positive. */
    void flipNegativeScale(Spec spec) {
        if (scale < 0) {
            scale = -scale;
            for (int k = 0; k < spec.size() / 8; k++) {
                signs[k] = ~signs[k] & spec.signMask();
            }
        }
    }

    /** Which groups the final refit redoes; ggml's quantizers differ here. */
    enum Refit {
        /** The groups the winning candidate had off the grid, when there are any (IQ2_XS, IQ2_S, IQ3_XXS). */
        OFF_GRID_GROUPS,
        /** Every group, when any group of the winning candidate was off the grid (IQ3_S). */
        ALL_GROUPS_IF_ANY_OFF_GRID,
        /** Every group, always (IQ2_XXS). */
        ALL_GROUPS
    }

    /**
     * The scale search on {@link #xval}: candidate inverse scales {@code ((2 kMaxQ - 1) + is * step) / divisor},
     * starting from {@code scale} and the levels already in {@link #levels}. Leaves the chosen levels in
     * {@link #levels} and returns the scale, which may come out negative.
     */
    float search(IQGridSearch grid, Spec spec, float divisor, float scale) {
        int n = spec.size();
        int kMaxQ = spec.kMaxQ();
        int steps = spec.steps();
        float step = spec.step();
        Refit refit = spec.refit();
        boolean initiallyOnGrid = spec.initiallyOnGrid();
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
                    nearestOnGrid(grid, vector, from, thisScale, levelsAux);
                }
            }
            fitSums(levelsAux, n);
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
                    nearestOnGrid(grid, vector, from, scale, levels);
                }
            }
            fitSums(levels, n);
            if (sumq2 > 0) {
                scale = sumqx / sumq2;
            }
        }
        return scale;
    }

    /** Moves the off-grid run at {@code from} to its best neighbour (ggml asserts there is one). */
    private void nearestOnGrid(IQGridSearch grid, int vector, int from, float scale, byte[] runLevels) {
        if (grid.bestNeighbour(vector, xval, from, waux, from, scale, grid.coordinates, runLevels, from) < 0) {
            throw new IllegalStateException("no neighbour of level vector " + vector + " has a finite error");
        }
    }

    /** {@code Σ w x q} and {@code Σ w q²} of the points {@code q = 2l + 1} of {@code levels}, into sumqx and sumq2. */
    private void fitSums(byte[] levels, int n) {
        float qx = 0;
        float q2 = 0;
        for (int i = 0; i < n; i++) {
            float w = weight[i];
            float q = 2 * levels[i] + 1;
            qx += w * xval[i] * q;
            q2 += w * q * q;
        }
        sumqx = qx;
        sumq2 = q2;
    }

    /** The grid index of the fitted levels of run {@code k}, which must lie on the grid (ggml aborts otherwise). */
    int gridIndex(IQGridSearch grid, int k) {
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
    private static int foldSigns(float[] x, int xo, float[] xval, float[] weight, int from, boolean evenParity) {
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
    private static float max(float[] values, int n) {
        float max = values[0];
        for (int i = 1; i < n; i++) {
            max = max > values[i] ? max : values[i];
        }
        return max;
    }

    /** The 4-bit level of a group scale: {@code (scale / d - 1) / 2}, rounded and clamped. */
    static int scaleLevel(float id, float scale) {
        return clamp(nearestInt(0.5f * (id * scale - 1)), 0, 15);
    }

    /** {@code roots[i] = sqrt(values[i])} for the first {@code n}, in float as ggml's {@code sqrtf}. */
    private static void squareRoots(float[] values, float[] roots, int n) {
        for (int i = 0; i < n; i++) {
            roots[i] = (float) Math.sqrt(values[i]);
        }
    }
}
