package glmj.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * e^x rounded as llama.cpp's CPU backend rounds it, where a last bit decides near-ties downstream (the flash attention's
 * softmax, the router's sigmoid, SwiGLU). Neither of ggml's exponentials is correctly rounded, so
 * {@code (float) Math.exp} differs from them in the last bit: from the C library's expf ({@link CMath#expf}) where e^x
 * lies near the midpoint of two floats, from ggml's vector expf (a polynomial) often.
 */
public final class Exponentials {
    /**
     * Whether ggml's vector functions take their AVX-512 form: where the machine's widest float vector has 16 lanes,
     * ggml loads an AVX-512 CPU variant (as {@link SmallBatchAttention} assumes too), whatever width glmj's kernels use.
     */
    private static final boolean AVX512 = FloatVector.SPECIES_PREFERRED.length() >= 16;

    /** ggml_v_expf's constants. */
    private static final float SHIFT = 0x1.8p23f;
    private static final float LOG2_E = 0x1.715476p+0f;
    /** ln 2 in two parts, high and low, for b = x - n ln 2 without rounding away its low bits. */
    private static final float LN2_HIGH = 0x1.62e4p-1f;
    private static final float LN2_LOW = 0x1.7f7d1cp-20f;
    /** The polynomial's coefficients for e^b, of degree 1 to 5. */
    private static final float C1 = 0x1.ffffecp-1f;
    private static final float C2 = 0x1.fffdb6p-2f;
    private static final float C3 = 0x1.555e66p-3f;
    private static final float C4 = 0x1.573e2ep-5f;
    private static final float C5 = 0x1.0e4020p-7f;

    /** {@link #expInPlace}'s constants in vectors: lanewise with a scalar would dispatch on a shared type profile. */
    private static final FloatVector LOWEST = FloatVector.broadcast(Lanes.F, -104f);
    private static final FloatVector SHIFTS = FloatVector.broadcast(Lanes.F, SHIFT);
    private static final FloatVector LOG2_ES = FloatVector.broadcast(Lanes.F, LOG2_E);
    private static final FloatVector LN2_HIGHS = FloatVector.broadcast(Lanes.F, LN2_HIGH);
    private static final FloatVector LN2_LOWS = FloatVector.broadcast(Lanes.F, LN2_LOW);
    private static final FloatVector ONES = FloatVector.broadcast(Lanes.F, 1f);
    private static final FloatVector C1S = FloatVector.broadcast(Lanes.F, C1);
    private static final FloatVector C2S = FloatVector.broadcast(Lanes.F, C2);
    private static final FloatVector C3S = FloatVector.broadcast(Lanes.F, C3);
    private static final FloatVector C4S = FloatVector.broadcast(Lanes.F, C4);
    private static final FloatVector C5S = FloatVector.broadcast(Lanes.F, C5);
    /** -127: the exponent whose biased bits are those of 0. */
    private static final FloatVector ZERO_EXPONENT = FloatVector.broadcast(Lanes.F, -127f);
    private static final IntVector BIAS = IntVector.broadcast(Lanes.I, 127);
    private static final IntVector MANTISSA_BITS = IntVector.broadcast(Lanes.I, 23);

    private Exponentials() {
    }

    /**
     * ggml_v_silu, {@code x / (1 + ggml_v_expf(0 - x))}, lane by lane: what ggml_vec_swiglu_f32 applies to a row's
     * elements in whole vectors (ggml_silu_f32, with {@link CMath#expf}, takes the few past the last whole vector).
     */
    public static float silu(float x) {
        return x / (1.0f + vectorExpf(0.0f - x));
    }

    /**
     * ggml_v_expf ("adapted from arm limited optimized routine"): e^x = 2^n * e^b with n = round(x / ln 2), e^b by a
     * polynomial, in fused multiply-adds. The AVX-512 form adds the polynomial's 1 before scaling by 2^n; the AVX2 form,
     * which ggml's NEON build shares, scales first and adds 2^n in the last fused step, rounding otherwise.
     */
    private static float vectorExpf(float x) {
        float z = Math.fma(x, LOG2_E, SHIFT);
        float n = z - SHIFT;
        float b = Math.fma(-n, LN2_LOW, Math.fma(-n, LN2_HIGH, x));
        float u = b * b;
        // the polynomial's terms of degree 2 to 5, over b^2
        float higher = Math.fma(Math.fma(C5, b, C4), u, Math.fma(C3, b, C2));
        if (AVX512) {
            if (Math.abs(n) > 192) {
                return n <= 0 ? 0f : Float.POSITIVE_INFINITY;
            }
            return Math.scalb(Math.fma(higher, u, Math.fma(C1, b, 1.0f)), (int) n);
        }
        float j = Math.fma(higher, u, C1 * b);
        int e = Float.floatToRawIntBits(z) << 23;
        float k = Float.intBitsToFloat(e + Float.floatToRawIntBits(1.0f));
        if (!(Math.abs(n) > 126)) {
            return Math.fma(j, k, k);
        }
        // past the float exponent's range: 2^n as the product of two powers of two
        int g = n <= 0 ? 0x82000000 : 0;
        float s1 = Float.intBitsToFloat(g + 0x7f000000);
        float s2 = Float.intBitsToFloat(e - g);
        return Math.abs(n) > 192 ? s1 * s1 : Math.fma(s2, j, s2) * s1;
    }

    /**
     * {@code values[from..to) = e^values[from..to)} for values at most 0 (a softmax's shifted scores, -infinity
     * included), in vectors by ggml_v_expf's AVX-512 polynomial: within a few units in the last place of e^x, and 0
     * where e^x is below the smallest normal float; the values past the last whole vector by {@link Math#exp}. Arrays,
     * not vectors, cross the call: a vector argument of a method C2 does not inline is boxed.
     */
    static void expInPlace(float[] values, int from, int to) {
        int i = from;
        for (int end = to - Lanes.F.length(); i <= end; i += Lanes.F.length()) {
            FloatVector x = FloatVector.fromArray(Lanes.F, values, i).lanewise(VectorOperators.MAX, LOWEST);
            FloatVector n = x.lanewise(VectorOperators.FMA, LOG2_ES, SHIFTS).lanewise(VectorOperators.SUB, SHIFTS);
            FloatVector minusN = n.lanewise(VectorOperators.NEG);
            FloatVector b = minusN.lanewise(VectorOperators.FMA, LN2_LOWS, minusN.lanewise(VectorOperators.FMA, LN2_HIGHS, x));
            FloatVector u = b.lanewise(VectorOperators.MUL, b);
            FloatVector higher = b.lanewise(VectorOperators.FMA, C5S, C4S)
                    .lanewise(VectorOperators.FMA, u, b.lanewise(VectorOperators.FMA, C3S, C2S));
            FloatVector polynomial = higher.lanewise(VectorOperators.FMA, u, b.lanewise(VectorOperators.FMA, C1S, ONES));
            // 2^n from its exponent bits, 0 below the normal floats
            IntVector exponent = (IntVector) n.lanewise(VectorOperators.MAX, ZERO_EXPONENT).convertShape(VectorOperators.F2I, Lanes.I, 0);
            FloatVector power = (FloatVector) exponent.lanewise(VectorOperators.ADD, BIAS).lanewise(VectorOperators.LSHL, MANTISSA_BITS)
                    .reinterpretShape(Lanes.F, 0);
            polynomial.lanewise(VectorOperators.MUL, power).intoArray(values, i);
        }
        for (; i < to; i++) {
            values[i] = (float) Math.exp(values[i]);
        }
    }
}
