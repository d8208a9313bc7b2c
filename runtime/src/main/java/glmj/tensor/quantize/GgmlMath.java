package glmj.tensor.quantize;

import java.util.Arrays;

/**
 * The scalar helpers of ggml's reference quantizers (ggml-quants.c), reproduced operation by operation in float
 * arithmetic so that every rounding matches: Java float math is IEEE binary32 like ggml's SSE code, which is compiled
 * without FMA contraction or reassociation.
 */
final class GgmlMath {

    /** ggml's {@code GROUP_MAX_EPS}: a group whose largest magnitude is below this is treated as all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    private GgmlMath() {
    }

    /**
     * ggml's {@code nearest_int}: rounds to nearest, ties to even, by adding 1.5 * 2^23 and reading the mantissa.
     * Meaningful for |value| <= 4194303; beyond that it returns the same wrapped value ggml does.
     */
    static int nearestInt(float value) {
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
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[offset + i];
                int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
                float w = weights != null ? weights[weightOffset + i] : xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int l = clamp(nearestInt(iscale * x[offset + i]), -nmax, nmax - 1);
                    levels[levelOffset + i] = (byte) (nmax + l);
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
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
                                float[] mins, int minIndex, byte[] levelsAux, float rmin, float rdelta, int nstep,
                                boolean useMad) {
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
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[offset + i];
                int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
                levelsAux[i] = (byte) l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * xi;
            }
            float determinant = sumW * sumL2 - sumL * sumL;
            if (determinant > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / determinant;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / determinant;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * levelsAux[i] + thisMin - x[offset + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    error += weights[i] * diff;
                }
                if (error < bestError) {
                    System.arraycopy(levelsAux, 0, levels, levelOffset, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[minIndex] = -min;
        return scale;
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

    static int clamp(int value, int low, int high) {
        return Math.max(low, Math.min(high, value));
    }
}
