package glmj.tensor.quantize;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.IQ1_MBlock;
import glmj.tensor.blocks.IQ1_SBlock;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static glmj.tensor.quantize.BlockIo.putByte;
import static glmj.tensor.quantize.BlockIo.putLong;
import static glmj.tensor.quantize.BlockIo.putShort;
import static glmj.tensor.quantize.BlockIo.putZeros;
import static glmj.tensor.quantize.GgmlMath.clamp;
import static glmj.tensor.quantize.GgmlMath.nearestInt;

/**
 * The ternary quantizers IQ1_S and IQ1_M ({@code quantize_row_iq1_s_impl}, {@code quantize_row_iq1_m_impl}):
 * groups of 8 weights take values {-1, 0, 1} from a 2048-point grid, shifted by ±1/8. Each group of 32 (IQ1_S) or
 * 16 (IQ1_M) weights is split exactly: sorted, every pair of boundaries between the three values is scored by its
 * least-squares scale, and an off-grid result moves to the best neighbouring grid point. IQ1_S needs an importance
 * matrix; with one a call covers one row and {@code importance[i]} weighs its column i.
 */
public final class IQ1Quantizers {

    private static final int QK_K = 256;
    /** ggml's {@code GROUP_MAX_EPS_IQ1_S} and {@code GROUP_MAX_EPS_IQ1_M}. */
    private static final float GROUP_MAX_EPS_IQ1_S = 1e-12f;
    private static final float GROUP_MAX_EPS_IQ1_M = 1e-7f;
    /** The three values shifted up ({@code x_p}) and down ({@code x_m}) by the 1/8 delta. */
    private static final float[] SHIFTED_UP = {-1 + IQ1_SBlock.DELTA, IQ1_SBlock.DELTA, 1 + IQ1_SBlock.DELTA};
    private static final float[] SHIFTED_DOWN = {-1 - IQ1_SBlock.DELTA, -IQ1_SBlock.DELTA, 1 - IQ1_SBlock.DELTA};
    /** The grid's points as shifted-up and shifted-down values, in {@code IQGridSearch.points} layout. */
    private static final class ShiftedPoints {
        static final float[] UP = IQGridSearch.iq1().pointValues(SHIFTED_UP);
        static final float[] DOWN = IQGridSearch.iq1().pointValues(SHIFTED_DOWN);
    }

    /** IQ1_M's qh bits of a group of 16's shift choice k (0: both halves up ... 3: both down). */
    private static final int[] IQ1M_SHIFT_MASKS = {0x00, 0x80, 0x08, 0x88};

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private IQ1Quantizers() {
    }

    private static final class Scratch {
        final float[] scales = new float[QK_K / 16];
        final int[] shifts = new int[QK_K / 16];
        final int[] qh = new int[QK_K / 16];
        final int[] qs = new int[QK_K / 8];
        final float[] weight = new float[32];
        final byte[] levels = new byte[32];
        final int[] index = new int[4];
        final float[] sumx = new float[33];
        final float[] sumw = new float[33];
        final float[][] px = new float[2][17];
        final float[][] pw = new float[2][17];
        final float[] sumqx = new float[4];
        final float[] sumq2 = new float[4];
        final ByValue sorted = new ByValue(32);
        /** The shifted points ({@link ShiftedPoints}) each run of 8 takes. */
        final float[][] runPoints = new float[4][];
    }

    public static void iq1_s(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq1();
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        float[] sumx = s.sumx;
        float[] sumw = s.sumw;
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ1_SBlock.BYTES) {
            putZeros(y, yo, IQ1_SBlock.BYTES);
            int[] qh = s.qh;
            int[] shifts = s.shifts;
            Arrays.fill(qh, 0);
            float maxScale = 0;
            float sigma2 = 2 * GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 32; ib++) {
                int xb = xo + 32 * ib;
                GgmlMath.importanceWeights(x, xb, importance, QK_K * ibl + 32 * ib, sigma2, s.weight, 32);
                float max = maxMagnitude(x, xb, 32);
                if (max < GROUP_MAX_EPS_IQ1_S) {
                    s.scales[ib] = 0;
                    shifts[ib] = 1;
                    continue;
                }
                // exact search over the two boundaries splitting the sorted weights into -1, 0 and 1
                ByValue sorted = s.sorted;
                sorted.sort(x, xb, 32);
                sumx[0] = 0;
                sumw[0] = 0;
                for (int j = 0; j < 32; j++) {
                    int i = sorted.index[j];
                    sumx[j + 1] = sumx[j] + s.weight[i] * x[xb + i];
                    sumw[j + 1] = sumw[j] + s.weight[i];
                }
                float bestScore = -Float.MAX_VALUE;
                float scale = max;
                int besti1 = -1;
                int besti2 = -1;
                int bestShift = 0;
                for (int i1 = 0; i1 <= 32; i1++) {
                    for (int i2 = i1; i2 <= 32; i2++) {
                        for (int shift = 1; shift >= -1; shift -= 2) {
                            float[] v = shift == 1 ? SHIFTED_UP : SHIFTED_DOWN;
                            float sumqx = (sumx[i1] - sumx[0]) * v[0] + (sumx[i2] - sumx[i1]) * v[1] + (sumx[32] - sumx[i2]) * v[2];
                            float sumq2 = (sumw[i1] - sumw[0]) * v[0] * v[0] + (sumw[i2] - sumw[i1]) * v[1] * v[1]
                                    + (sumw[32] - sumw[i2]) * v[2] * v[2];
                            if (sumq2 > 0 && sumqx * sumqx > bestScore * sumq2) {
                                scale = sumqx / sumq2;
                                bestScore = scale * sumqx;
                                besti1 = i1;
                                besti2 = i2;
                                bestShift = shift;
                            }
                        }
                    }
                }
                if (besti1 < 0 || besti2 < 0 || bestShift == 0) {
                    s.scales[ib] = 0;
                    shifts[ib] = 1;
                    continue;
                }
                sorted.assignLevels(levels, besti1, besti2, 32);
                if (scale < 0) {
                    for (int j = 0; j < 32; j++) {
                        levels[j] = (byte) (2 - levels[j]);
                    }
                    scale = -scale;
                    bestShift = -bestShift;
                }
                Arrays.fill(s.runPoints, bestShift == 1 ? ShiftedPoints.UP : ShiftedPoints.DOWN);
                scale = placeOnGrid(grid, s, 4, x, xb, scale);
                int h = 0;
                for (int k = 0; k < 4; k++) {
                    putByte(y, yo + IQ1_SBlock.QS_OFFSET + 4 * ib + k, s.index[k]);
                    h |= (s.index[k] >> 8) << (3 * k);
                }
                qh[ib] = h;
                s.scales[ib] = scale;
                shifts[ib] = bestShift;
                maxScale = maxScale > scale ? maxScale : scale;
            }
            if (maxScale != 0) {
                float d = maxScale / 15;
                putShort(y, yo + IQ1_SBlock.D_OFFSET, FloatFormats.f32ToF16(d * 1.125f));
                float id = 1 / d;
                for (int ib = 0; ib < QK_K / 32; ib++) {
                    int l = clamp(nearestInt(0.5f * (id * s.scales[ib] - 1)), 0, 7);
                    qh[ib] |= (shifts[ib] == -1 ? l | 8 : l) << 12;
                }
            }
            for (int ib = 0; ib < QK_K / 32; ib++) {
                putShort(y, yo + IQ1_SBlock.QH_OFFSET + 2L * ib, (short) qh[ib]);
            }
        }
    }

    public static void iq1_m(float[] x, int xo, MemorySegment y, long yo, int blocks, float[] importance) {
        IQGridSearch grid = IQGridSearch.iq1();
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        for (int ibl = 0; ibl < blocks; ibl++, xo += QK_K, yo += IQ1_MBlock.BYTES) {
            int[] qs = s.qs;
            int[] qh = s.qh;
            Arrays.fill(qs, 0);
            Arrays.fill(qh, 0);
            float maxScale = 0;
            float sigma2 = 2 * GgmlMath.sumOfSquares(x, xo, QK_K) / QK_K;
            for (int ib = 0; ib < QK_K / 16; ib++) {
                int xb = xo + 16 * ib;
                iq1mWeights(x, xb, importance, QK_K * ibl + 16 * ib, sigma2, s.weight);
                float max = maxMagnitude(x, xb, 16);
                if (max < GROUP_MAX_EPS_IQ1_M) {
                    s.scales[ib] = 0;
                    s.shifts[ib] = 0;
                    continue;
                }
                ByValue sorted = s.sorted;
                sorted.sort(x, xb, 16);
                float bestScore = -Float.MAX_VALUE;
                float scale = max;
                int besti1 = -1;
                int besti2 = -1;
                int bestK = -1;
                // prefix sums per half of the group, since each half has its own shift; as both shifted value sets
                // step by 1, a split's sum collapses to T*v[2] - px[i1] - px[i2]
                float[][] px = s.px;
                float[][] pw = s.pw;
                px[0][0] = px[1][0] = 0;
                pw[0][0] = pw[1][0] = 0;
                for (int j = 0; j < 16; j++) {
                    int i = sorted.index[j];
                    int h = i < 8 ? 0 : 1;
                    px[h][j + 1] = px[h][j] + s.weight[i] * x[xb + i];
                    px[1 - h][j + 1] = px[1 - h][j];
                    pw[h][j + 1] = pw[h][j] + s.weight[i];
                    pw[1 - h][j + 1] = pw[1 - h][j];
                }
                float p2 = SHIFTED_UP[2];
                float m2 = SHIFTED_DOWN[2];
                float cp1 = SHIFTED_UP[0] * SHIFTED_UP[0] - SHIFTED_UP[1] * SHIFTED_UP[1];
                float cp2 = SHIFTED_UP[1] * SHIFTED_UP[1] - SHIFTED_UP[2] * SHIFTED_UP[2];
                float cm1 = SHIFTED_DOWN[0] * SHIFTED_DOWN[0] - SHIFTED_DOWN[1] * SHIFTED_DOWN[1];
                float cm2 = SHIFTED_DOWN[1] * SHIFTED_DOWN[1] - SHIFTED_DOWN[2] * SHIFTED_DOWN[2];
                float[] sumqx = s.sumqx;
                float[] sumq2 = s.sumq2;
                for (int i1 = 0; i1 <= 16; i1++) {
                    for (int i2 = i1; i2 <= 16; i2++) {
                        float sx0 = px[0][i1] + px[0][i2];
                        float sx1 = px[1][i1] + px[1][i2];
                        float qxp0 = px[0][16] * p2 - sx0;
                        float qxm0 = px[0][16] * m2 - sx0;
                        float qxp1 = px[1][16] * p2 - sx1;
                        float qxm1 = px[1][16] * m2 - sx1;
                        float q2p0 = pw[0][16] * p2 * p2 + pw[0][i1] * cp1 + pw[0][i2] * cp2;
                        float q2m0 = pw[0][16] * m2 * m2 + pw[0][i1] * cm1 + pw[0][i2] * cm2;
                        float q2p1 = pw[1][16] * p2 * p2 + pw[1][i1] * cp1 + pw[1][i2] * cp2;
                        float q2m1 = pw[1][16] * m2 * m2 + pw[1][i1] * cm1 + pw[1][i2] * cm2;
                        sumqx[0] = qxp0 + qxp1;
                        sumqx[1] = qxp0 + qxm1;
                        sumqx[2] = qxm0 + qxp1;
                        sumqx[3] = qxm0 + qxm1;
                        sumq2[0] = q2p0 + q2p1;
                        sumq2[1] = q2p0 + q2m1;
                        sumq2[2] = q2m0 + q2p1;
                        sumq2[3] = q2m0 + q2m1;
                        for (int k = 0; k < 4; k++) {
                            if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > bestScore * sumq2[k]) {
                                scale = sumqx[k] / sumq2[k];
                                bestScore = scale * sumqx[k];
                                besti1 = i1;
                                besti2 = i2;
                                bestK = k;
                            }
                        }
                    }
                }
                if (besti1 < 0 || besti2 < 0 || bestK < 0) {
                    s.scales[ib] = 0;
                    s.shifts[ib] = 0;
                    continue;
                }
                sorted.assignLevels(levels, besti1, besti2, 16);
                if (scale < 0) {
                    for (int j = 0; j < 16; j++) {
                        levels[j] = (byte) (2 - levels[j]);
                    }
                    scale = -scale;
                    bestK = 3 - bestK;
                }
                s.runPoints[0] = iq1mPoints(bestK, 0);
                s.runPoints[1] = iq1mPoints(bestK, 1);
                scale = placeOnGrid(grid, s, 2, x, xb, scale);
                qs[2 * ib] = s.index[0] & 0xFF;
                qs[2 * ib + 1] = s.index[1] & 0xFF;
                qh[ib] = (s.index[0] >> 8) | ((s.index[1] >> 8) << 4);
                s.scales[ib] = scale;
                s.shifts[ib] = bestK;
                maxScale = maxScale > scale ? maxScale : scale;
            }
            long scaleWords = maxScale == 0 ? 0 : superBlockScale(x, xo, importance, QK_K * ibl, sigma2, maxScale, s, grid);
            for (int i = 0; i < QK_K / 8; i++) {
                putByte(y, yo + IQ1_MBlock.QS_OFFSET + i, qs[i]);
            }
            for (int ib = 0; ib < QK_K / 16; ib++) {
                putByte(y, yo + IQ1_MBlock.QH_OFFSET + ib, qh[ib]);
            }
            putLong(y, yo + IQ1_MBlock.SCALES_OFFSET, scaleWords);
        }
    }

    /**
     * IQ1_M's scale words: each group of 16's 3-bit scale against {@code maxScale / 15}, and the f16 super-block
     * scale fitted by least squares over the whole block with those scales applied (its nibbles in the words' tops).
     * Also sets each group's shift bits in {@code s.qh}.
     */
    private static long superBlockScale(float[] x, int xo, float[] importance, int wo, float sigma2, float maxScale,
                                        Scratch s, IQGridSearch grid) {
        // the super-block scale: least squares over the whole block with every group's 3-bit scale applied
        float d = maxScale / 15;
        float id = 1 / d;
        float sumqxF = 0;
        float sumq2F = 0;
        long scaleWords = 0;
        for (int ib = 0; ib < QK_K / 16; ib++) {
            int l = clamp(nearestInt(0.5f * (id * s.scales[ib] - 1)), 0, 7);
            scaleWords |= (long) l << (16 * (ib / 4) + 3 * (ib % 4));
            s.qh[ib] |= IQ1M_SHIFT_MASKS[s.shifts[ib]];
            int xb = xo + 16 * ib;
            iq1mWeights(x, xb, importance, wo + 16 * ib, sigma2, s.weight);
            for (int k = 0; k < 2; k++) {
                float[] shifted = iq1mPoints(s.shifts[ib], k);
                int point = s.qs[2 * ib + k] + ((s.qh[ib] << (8 - 4 * k)) & 0x700);
                for (int j = 0; j < 8; j++) {
                    float w = s.weight[8 * k + j];
                    float q = shifted[8 * point + j] * (2 * l + 1);
                    sumqxF += w * q * x[xb + 8 * k + j];
                    sumq2F += w * q * q;
                }
            }
        }
        if (sumq2F > 0) {
            d = sumqxF / sumq2F;
        }
        int half = FloatFormats.f32ToF16(d * 1.1125f) & 0xFFFF;
        scaleWords |= (long) (half & 0x000F) << 12 | (long) (half & 0x00F0) << 24
                | (long) (half & 0x0F00) << 36 | (long) (half & 0xF000) << 48;
        return scaleWords;
    }

    /**
     * Moves each of the group's {@code runs} runs of 8 levels onto the grid (their grid indices into {@code s.index}),
     * an off-grid run to its best neighbour under its {@code s.runPoints}; if any moved, returns the group's
     * least-squares scale for the new points when it is positive, else {@code scale}.
     */
    private static float placeOnGrid(IQGridSearch grid, Scratch s, int runs, float[] x, int xb, float scale) {
        boolean allOnGrid = true;
        for (int k = 0; k < runs; k++) {
            int vector = grid.vector(s.levels, 8 * k);
            int index = grid.gridIndex(vector);
            if (index < 0) {
                allOnGrid = false;
                index = bestShiftedNeighbour(grid, vector, x, xb + 8 * k, s.weight, 8 * k, scale, s.runPoints[k], s.levels, 8 * k);
            }
            s.index[k] = index;
        }
        if (allOnGrid) {
            return scale;
        }
        float sumqx = 0;
        float sumq2 = 0;
        for (int k = 0; k < runs; k++) {
            for (int j = 0; j < 8; j++) {
                float w = s.weight[8 * k + j];
                float q = s.runPoints[k][8 * s.index[k] + j];
                sumqx += w * q * x[xb + 8 * k + j];
                sumq2 += w * q * q;
            }
        }
        return sumqx > 0 && sumq2 > 0 ? sumqx / sumq2 : scale;
    }

    /** IQ1_M's shifted points ({@link ShiftedPoints}) for half {@code k} of a group of 16 whose shift choice is {@code shift}. */
    private static float[] iq1mPoints(int shift, int k) {
        boolean up = k == 0 ? shift < 2 : shift % 2 == 0;
        return up ? ShiftedPoints.UP : ShiftedPoints.DOWN;
    }

    private static void iq1mWeights(float[] x, int xb, float[] qw, int wo, float sigma2, float[] weight) {
        if (qw != null) {
            GgmlMath.importanceWeights(x, xb, qw, wo, sigma2, weight, 16);
        } else {
            for (int i = 0; i < 16; i++) {
                weight[i] = x[xb + i] * x[xb + i];
            }
        }
    }

    /** C's {@code MAX} of {@code |x|} over {@code x[xb, xb + n)}, from the first. */
    private static float maxMagnitude(float[] x, int xb, int n) {
        float max = Math.abs(x[xb]);
        for (int i = 1; i < n; i++) {
            float ax = Math.abs(x[xb + i]);
            max = max > ax ? max : ax;
        }
        return max;
    }

    /**
     * ggml's {@code iq1_find_best_neighbour2}: the neighbour of the off-grid {@code vector} whose shifted values
     * ({@code shifted}, a {@link ShiftedPoints} table) times {@code scale} fit {@code x[xo, xo + 8)} best; its levels
     * go to {@code levels[lo..]}.
     * When no neighbour's error is below {@code FLT_MAX} ggml scans the whole grid, comparing element {@code i} of
     * the group with the grid index {@code i} (it reads past the group); that is reproduced as far as {@code x}
     * reaches.
     */
    private static int bestShiftedNeighbour(IQGridSearch grid, int vector, float[] x, int xo, float[] weight, int wo,
                                            float scale, float[] shifted, byte[] levels, int lo) {
        int best = grid.bestNeighbour(vector, x, xo, weight, wo, scale, shifted, levels, lo);
        if (best >= 0) {
            return best;
        }
        float bestScore = Float.MAX_VALUE;
        int points = grid.points.length / 8;
        for (int i = 0; i < points; i++) {
            float xi = xo + i < x.length ? x[xo + i] : Float.NaN;
            float d2 = 0;
            for (int j = 0; j < 8; j++) {
                float diff = scale * shifted[8 * i + j] - xi;
                d2 += weight[wo + j] * diff * diff;
            }
            if (d2 < bestScore) {
                bestScore = d2;
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("no grid point of level vector " + vector + " has a finite error");
        }
        grid.putLevels(best, levels, lo);
        return best;
    }

    /**
     * Weights sorted by value with their positions, as glibc's {@code qsort} sorts ggml's (value, index) pairs: a
     * top-down merge sort that keeps equal values (and NaNs, which compare equal to everything) in input order.
     */
    static final class ByValue {
        final float[] value;
        final int[] index;
        private final float[] valueTemp;
        private final int[] indexTemp;

        ByValue(int capacity) {
            value = new float[capacity];
            index = new int[capacity];
            valueTemp = new float[capacity];
            indexTemp = new int[capacity];
        }

        void sort(float[] x, int xo, int n) {
            for (int j = 0; j < n; j++) {
                value[j] = x[xo + j];
                index[j] = j;
            }
            mergeSort(0, n);
        }

        /** Levels 0, 1, 2 for the sorted positions below {@code i1}, from {@code i1} to {@code i2}, and the rest. */
        void assignLevels(byte[] levels, int i1, int i2, int n) {
            for (int j = 0; j < n; j++) {
                levels[index[j]] = (byte) (j < i1 ? 0 : j < i2 ? 1 : 2);
            }
        }

        private void mergeSort(int from, int n) {
            if (n <= 1) {
                return;
            }
            int n1 = n / 2;
            int n2 = n - n1;
            mergeSort(from, n1);
            mergeSort(from + n1, n2);
            int b1 = from;
            int b2 = from + n1;
            int t = 0;
            while (n1 > 0 && n2 > 0) {
                if (compare(value[b1], value[b2]) <= 0) {
                    valueTemp[t] = value[b1];
                    indexTemp[t++] = index[b1++];
                    n1--;
                } else {
                    valueTemp[t] = value[b2];
                    indexTemp[t++] = index[b2++];
                    n2--;
                }
            }
            while (n1-- > 0) {
                valueTemp[t] = value[b1];
                indexTemp[t++] = index[b1++];
            }
            System.arraycopy(valueTemp, 0, value, from, t);
            System.arraycopy(indexTemp, 0, index, from, t);
        }

        /** ggml's {@code iq1_sort_helper}. */
        private static int compare(float left, float right) {
            return left < right ? -1 : left > right ? 1 : 0;
        }
    }
}
