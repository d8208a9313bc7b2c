package glmj.tensor.quantize;

import glmj.kernel.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The helpers of ggml's reference quantizers (ggml-quants.c), reproduced operation by operation in float arithmetic so
 * that every rounding matches: Java float math is IEEE binary32 like ggml's SSE code, which is compiled without FMA
 * contraction or reassociation. The scale searches compute their candidates side by side, one per vector lane, each
 * lane with ggml's operations in ggml's order, and choose among them in ggml's order. {@link #nearestInt} is public:
 * llama-perplexity rounds its stored log-probabilities with the same function.
 */
public final class GgmlMath {

    /** ggml's {@code GROUP_MAX_EPS}: a group whose largest magnitude is below this is treated as all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;
    /** The candidate scales one vector tries at once. */
    private static final VectorSpecies<Float> STEPS = Lanes.F;
    private static final VectorSpecies<Integer> STEPS_INT = Lanes.I;
    private static final FloatVector IOTA = FloatVector.zero(STEPS).addIndex(1);
    /** {@link #nearestInt}'s constants. */
    private static final FloatVector ROUNDING = FloatVector.broadcast(STEPS, 12582912.f);
    private static final IntVector MANTISSA = IntVector.broadcast(STEPS_INT, 0x007FFFFF);
    private static final IntVector HALF_MANTISSA = IntVector.broadcast(STEPS_INT, 0x00400000);
    /** {@code make_qx_quants}' candidates besides its first: is = -9..9 without 0. */
    private static final int QX_CANDIDATES = 18;

    private GgmlMath() {
    }

    /**
     * ggml's {@code nearest_int}: rounds to nearest, ties to even, by adding 1.5 * 2^23 and reading the mantissa.
     * Meaningful for |value| <= 4194303; beyond that it returns the same wrapped value ggml does.
     */
    public static int nearestInt(float value) {
        int bits = Float.floatToRawIntBits(value + 12582912.f);
        return (bits & 0x007FFFFF) - 0x00400000;
    }

    /** C's {@code roundf}: nearest integer, halfway cases away from zero. */
    static float roundHalfAwayFromZero(float value) {
        float magnitude = (float) Math.floor(Math.abs((double) value) + 0.5);
        return Math.copySign(magnitude, value);
    }

    /**
     * A C float-to-integer conversion as x86-64 compiles it (cvttss2si): truncation toward zero, and the "integer
     * indefinite" {@code 0x80000000} for NaN and out-of-range values, where Java's cast would saturate. ggml's
     * narrowing casts ({@code (int8_t)}, {@code (uint8_t)}) then keep the low byte of this.
     */
    static int truncateLikeX86(float value) {
        if (value >= -0x1p31f && value < 0x1p31f) {
            return (int) value;
        }
        return Integer.MIN_VALUE;
    }

    /** ggml's {@code best_index_int8}: index of the entry of the ascending {@code values} nearest to {@code x}. */
    static int bestIndexInt8(byte[] values, float x) {
        int n = values.length;
        if (x <= values[0]) {
            return 0;
        }
        if (x >= values[n - 1]) {
            return n - 1;
        }
        int low = 0;
        int high = n - 1;
        while (high - low > 1) {
            int middle = (low + high) / 2;
            if (x < values[middle]) {
                high = middle;
            } else {
                low = middle;
            }
        }
        return x - values[high - 1] < values[high] - x ? high - 1 : high;
    }

    /** The element of largest magnitude in {@code x[offset, offset + n)}, with its sign; the first one on ties. */
    static float signedMaxByMagnitude(float[] x, int offset, int n) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[offset + i]);
            if (ax > amax) {
                amax = ax;
                max = x[offset + i];
            }
        }
        return max;
    }

    /**
     * ggml's {@code make_qx_quants} with {@code rmse_type = 1}: symmetric quants {@code L + nmax} in {@code [0, 2 nmax)}
     * and their scale, searched over 19 candidate scales for the least weighted squared error. The weights are
     * {@code weights[weightOffset + i]}, or x² when {@code weights} is null.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int offset, byte[] levels, int levelOffset,
                              float[] weights, int weightOffset) {
        float max = signedMaxByMagnitude(x, offset, n);
        if (Math.abs(max) < GROUP_MAX_EPS) {
            Arrays.fill(levels, levelOffset, levelOffset + n, (byte) 0);
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[offset + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[levelOffset + i] = (byte) (l + nmax);
            float w = weights != null ? weights[weightOffset + i] : xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        // candidates is = -9..9 without 0, in lanes; ggml tries them in that order, each against the best so far
        FloatVector maxes = all(max);
        for (int first = 0; first < QX_CANDIDATES; first += STEPS.length()) {
            FloatVector candidates = all(first).lanewise(VectorOperators.ADD, IOTA);
            FloatVector is = candidates.lanewise(VectorOperators.SUB, all(9))
                    .lanewise(VectorOperators.ADD, FloatVector.zero(STEPS).blend(all(1), candidates.compare(VectorOperators.GE, all(9))));
            FloatVector iscales = is.lanewise(VectorOperators.MUL, all(0.1f)).lanewise(VectorOperators.ADD, all(nmax))
                    .lanewise(VectorOperators.NEG).lanewise(VectorOperators.DIV, maxes);
            FloatVector sumsLx = FloatVector.zero(STEPS);
            FloatVector sumsL2 = FloatVector.zero(STEPS);
            for (int i = 0; i < n; i++) {
                float xi = x[offset + i];
                float w = weights != null ? weights[weightOffset + i] : xi * xi;
                FloatVector l = nearestInts(iscales.lanewise(VectorOperators.MUL, all(xi)), -nmax, nmax - 1);
                sumsLx = l.lanewise(VectorOperators.MUL, all(w * xi)).lanewise(VectorOperators.ADD, sumsLx);
                sumsL2 = l.lanewise(VectorOperators.MUL, all(w)).lanewise(VectorOperators.MUL, l).lanewise(VectorOperators.ADD, sumsL2);
            }
            for (int lane = 0; lane < STEPS.length() && first + lane < QX_CANDIDATES; lane++) {
                float candidateLx = sumsLx.lane(lane);
                float candidateL2 = sumsL2.lane(lane);
                if (candidateL2 > 0 && candidateLx * candidateLx > best * candidateL2) {
                    iscale = iscales.lane(lane);
                    for (int i = 0; i < n; i++) {
                        int l = clamp(nearestInt(iscale * x[offset + i]), -nmax, nmax - 1);
                        levels[levelOffset + i] = (byte) (nmax + l);
                    }
                    scale = candidateLx / candidateL2;
                    best = scale * candidateLx;
                }
            }
        }
        return scale;
    }

    /**
     * ggml's {@code make_qp_quants}: non-negative quants in {@code [0, nmax]} of the non-negative {@code x} (the
     * sub-block scales or mins of a super-block), with a 9-candidate scale search and then up to 5 passes refining
     * single quants, all under {@code weights}. ggml keeps the quants in bytes without clamping from below, so a
     * negative one wraps to {@code 256 + q}; the levels here wrap the same way (read them as unsigned).
     */
    static float makeQpQuants(int n, int nmax, float[] x, int offset, byte[] levels, int levelOffset, float[] weights) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = max > x[offset + i] ? max : x[offset + i];
        }
        if (max < GROUP_MAX_EPS) {
            Arrays.fill(levels, levelOffset, levelOffset + n, (byte) 0);
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) {
            levels[levelOffset + i] = (byte) nearestInt(iscale * x[offset + i]);
        }
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++) {
            float diff = x[offset + i] - scale * (levels[levelOffset + i] & 0xFF);
            bestMse += weights[i] * diff * diff;
        }
        for (int is = -4; is <= 4; is++) {
            if (is == 0) {
                continue;
            }
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.min(nmax, nearestInt(iscaleIs * x[offset + i]));
                float diff = x[offset + i] - scaleIs * l;
                mse += weights[i] * diff * diff;
            }
            if (mse < bestMse) {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[offset + i];
            int l = Math.min(nmax, nearestInt(iscale * xi));
            levels[levelOffset + i] = (byte) l;
            float w = weights[i];
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[offset + i];
                float w = weights[i];
                int li = levels[levelOffset + i] & 0xFF;
                float slx = sumlx - w * xi * li;
                float sl2 = suml2 - w * li * li;
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, nearestInt(xi * sl2 / slx));
                    if (newL != li) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            levels[levelOffset + i] = (byte) newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /**
     * ggml's {@code make_q3_quants} with {@code do_rmse}: symmetric quants {@code L + nmax}, refined one element at a
     * time (up to 5 passes) while the x²-weighted fit improves; returns the least-squares scale.
     */
    static float makeQ3Quants(int n, int nmax, float[] x, int offset, byte[] levels, int levelOffset) {
        float max = signedMaxByMagnitude(x, offset, n);
        if (Math.abs(max) < GROUP_MAX_EPS) {
            Arrays.fill(levels, levelOffset, levelOffset + n, (byte) 0);
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[offset + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[levelOffset + i] = (byte) l;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[offset + i];
                int li = levels[levelOffset + i];
                float w = xi * xi;
                float slx = sumlx - w * xi * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int newL = clamp(nearestInt(xi * sl2 / slx), -nmax, nmax - 1);
                    if (newL != li) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            levels[levelOffset + i] = (byte) newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            levels[levelOffset + i] += (byte) nmax;
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /**
     * ggml's {@code make_qkx2_quants}, and its {@code make_qkx3_quants} with weights given (the two differ only in
     * what they do without weights and in a {@code max <= min} test that no input tells from {@code max == min}):
     * asymmetric quants {@code L} in {@code [0, nmax]} with {@code x ≈ scale*L - min},
     * trying {@code nstep + 1} scales from {@code (nmax + rmin)} in steps of {@code rdelta} and keeping the weighted
     * least-squares fit with the smallest error (absolute error when {@code useMad}). Returns the scale and stores
     * {@code min} (non-negative) in {@code mins[minIndex]}.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int offset, float[] weights, byte[] levels, int levelOffset,
                                float[] mins, int minIndex, float rmin, float rdelta, int nstep,
                                boolean useMad, StepSearch search) {
        float min = x[offset];
        float max = x[offset];
        float sumW = weights[0];
        float sumX = sumW * x[offset];
        for (int i = 1; i < n; i++) {
            float xi = x[offset + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            Arrays.fill(levels, levelOffset, levelOffset + n, (byte) 0);
            mins[minIndex] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[offset + i];
            int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
            levels[levelOffset + i] = (byte) l;
            float diff = scale * l + min - xi;
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        // A step that improves the fit moves min, which the later steps quantize against, so the search resumes after it
        int bestStep = -1;
        float bestStepMin = min;
        for (int from = 0; from <= nstep; ) {
            int step = improvingStep(n, nmax, x, offset, weights, sumW, sumX, min, max, bestError, rmin, rdelta, from, nstep,
                    useMad, search);
            if (step < 0) {
                break;
            }
            bestStep = step;
            bestStepMin = min;
            bestError = search.error;
            scale = search.scale;
            min = search.min;
            from = step + 1;
        }
        if (bestStep >= 0) {
            iscale = (rmin + rdelta * bestStep + nmax) / (max - bestStepMin);
            for (int i = 0; i < n; i++) {
                levels[levelOffset + i] = (byte) clamp(nearestInt(iscale * (x[offset + i] - bestStepMin)), 0, nmax);
            }
        }
        mins[minIndex] = -min;
        return scale;
    }

    /**
     * A thread's scratch for {@code make_qkx2_quants}' step search: a vector of steps' levels and fits, and the step
     * found to improve the fit.
     */
    static final class StepSearch {
        /** Step {@code lane}'s level of value {@code i} at {@code [i * lanes + lane]}, for up to 32 values. */
        private final float[] levels = new float[32 * STEPS.length()];
        private final float[] determinants = new float[STEPS.length()];
        private final float[] scales = new float[STEPS.length()];
        private final float[] mins = new float[STEPS.length()];
        private float error;
        private float scale;
        private float min;
    }

    /**
     * The first of {@code make_qkx2_quants}' steps {@code from..nstep} whose fit has less error than {@code bestError},
     * all quantized against the same {@code min}, a vector of steps at a time; -1 if none. Its error, scale and min go
     * to {@code search}.
     */
    private static int improvingStep(int n, int nmax, float[] x, int offset, float[] weights, float sumW, float sumX,
                                     float min, float max, float bestError, float rmin, float rdelta, int from, int nstep,
                                     boolean useMad, StepSearch search) {
        for (int first = from; first <= nstep; first += STEPS.length()) {
            fitSteps(n, nmax, x, offset, weights, sumW, sumX, min, max, rmin, rdelta, first, search);
            int lane = firstImprovingLane(n, x, offset, weights, bestError, nstep - first, useMad, search);
            if (lane < STEPS.length()) {
                return first + lane;
            }
        }
        return -1;
    }

    /** The levels, and each one's least-squares scale and min, of the vector of steps from {@code first}. */
    private static void fitSteps(int n, int nmax, float[] x, int offset, float[] weights, float sumW, float sumX, float min,
                                 float max, float rmin, float rdelta, int first, StepSearch search) {
        FloatVector iscales = all(first).lanewise(VectorOperators.ADD, IOTA).lanewise(VectorOperators.MUL, all(rdelta))
                .lanewise(VectorOperators.ADD, all(rmin)).lanewise(VectorOperators.ADD, all(nmax))
                .lanewise(VectorOperators.DIV, all(max - min));
        FloatVector sumsL = FloatVector.zero(STEPS);
        FloatVector sumsL2 = FloatVector.zero(STEPS);
        FloatVector sumsXL = FloatVector.zero(STEPS);
        for (int i = 0; i < n; i++) {
            float xi = x[offset + i];
            FloatVector l = nearestInts(iscales.lanewise(VectorOperators.MUL, all(xi - min)), 0, nmax);
            l.intoArray(search.levels, i * STEPS.length());
            FloatVector wl = l.lanewise(VectorOperators.MUL, all(weights[i]));
            sumsL = wl.lanewise(VectorOperators.ADD, sumsL);
            sumsL2 = wl.lanewise(VectorOperators.MUL, l).lanewise(VectorOperators.ADD, sumsL2);
            sumsXL = wl.lanewise(VectorOperators.MUL, all(xi)).lanewise(VectorOperators.ADD, sumsXL);
        }
        FloatVector sumsW = all(sumW);
        FloatVector sumsX = all(sumX);
        FloatVector determinants = sumsL2.lanewise(VectorOperators.MUL, sumsW)
                .lanewise(VectorOperators.SUB, sumsL.lanewise(VectorOperators.MUL, sumsL));
        FloatVector scales = sumsXL.lanewise(VectorOperators.MUL, sumsW)
                .lanewise(VectorOperators.SUB, sumsL.lanewise(VectorOperators.MUL, sumsX)).lanewise(VectorOperators.DIV, determinants);
        FloatVector mins = sumsL2.lanewise(VectorOperators.MUL, sumsX)
                .lanewise(VectorOperators.SUB, sumsL.lanewise(VectorOperators.MUL, sumsXL)).lanewise(VectorOperators.DIV, determinants);
        FloatVector zeros = FloatVector.zero(STEPS);
        VectorMask<Float> positive = mins.compare(VectorOperators.GT, zeros);
        determinants.intoArray(search.determinants, 0);
        scales.blend(sumsXL.lanewise(VectorOperators.DIV, sumsL2), positive).intoArray(search.scales, 0);
        mins.blend(zeros, positive).intoArray(search.mins, 0);
    }

    /**
     * The first of the fitted steps (at most {@code lastLane + 1}) with a positive determinant and less error than
     * {@code bestError}, as ggml tests them; the vector's length if none.
     */
    private static int firstImprovingLane(int n, float[] x, int offset, float[] weights, float bestError, int lastLane,
                                          boolean useMad, StepSearch search) {
        FloatVector scales = FloatVector.fromArray(STEPS, search.scales, 0);
        FloatVector mins = FloatVector.fromArray(STEPS, search.mins, 0);
        VectorMask<Float> absolute = STEPS.maskAll(useMad);
        FloatVector errors = FloatVector.zero(STEPS);
        for (int i = 0; i < n; i++) {
            FloatVector l = FloatVector.fromArray(STEPS, search.levels, i * STEPS.length());
            FloatVector diff = l.lanewise(VectorOperators.MUL, scales).lanewise(VectorOperators.ADD, mins)
                    .lanewise(VectorOperators.SUB, all(x[offset + i]));
            diff = diff.lanewise(VectorOperators.MUL, diff).blend(diff.lanewise(VectorOperators.ABS), absolute);
            errors = diff.lanewise(VectorOperators.MUL, all(weights[i])).lanewise(VectorOperators.ADD, errors);
        }
        int lane = FloatVector.fromArray(STEPS, search.determinants, 0).compare(VectorOperators.GT, FloatVector.zero(STEPS))
                .and(errors.compare(VectorOperators.LT, all(bestError)))
                .and(IOTA.compare(VectorOperators.LE, all(lastLane))).firstTrue();
        if (lane < STEPS.length()) {
            search.error = errors.lane(lane);
            search.scale = search.scales[lane];
            search.min = search.mins[lane];
        }
        return lane;
    }

    /** Σ x² over {@code x[offset, offset + n)}, summed in order as ggml does. */
    static float sumOfSquares(float[] x, int offset, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            sum += x[offset + i] * x[offset + i];
        }
        return sum;
    }

    /**
     * ggml's importance weights {@code qw[i] * sqrt(σ² + x[i]²)} of {@code n} weights into {@code weights[0, n)};
     * returns their sum.
     */
    static float importanceWeights(float[] x, int xo, float[] qw, int wo, float sigma2, float[] weights, int n) {
        float sum = 0;
        for (int l = 0; l < n; l++) {
            float v = x[xo + l];
            weights[l] = qw[wo + l] * (float) Math.sqrt(sigma2 + v * v);
        }
        for (int l = 0; l < n; l++) {
            sum += weights[l];
        }
        return sum;
    }

    /** {@link #nearestInt} of each lane, clamped to {@code [low, high]}, as floats. */
    private static FloatVector nearestInts(FloatVector values, int low, int high) {
        return (FloatVector) ((IntVector) values.lanewise(VectorOperators.ADD, ROUNDING).reinterpretShape(STEPS_INT, 0))
                .lanewise(VectorOperators.AND, MANTISSA).lanewise(VectorOperators.SUB, HALF_MANTISSA)
                .lanewise(VectorOperators.MAX, IntVector.broadcast(STEPS_INT, low))
                .lanewise(VectorOperators.MIN, IntVector.broadcast(STEPS_INT, high))
                .convertShape(VectorOperators.I2F, STEPS, 0);
    }

    /** {@code value} in every lane. */
    private static FloatVector all(float value) {
        return FloatVector.broadcast(STEPS, value);
    }

    static int clamp(int value, int low, int high) {
        return Math.max(low, Math.min(high, value));
    }
}
