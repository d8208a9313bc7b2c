package glmj.kernel;

import jdk.incubator.vector.FloatVector;

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
        float shift = 0x1.8p23f;
        float z = Math.fma(x, 0x1.715476p+0f, shift);
        float n = z - shift;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        float u = b * b;
        // the polynomial's terms of degree 2 to 5, over b^2
        float higher = Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f));
        if (AVX512) {
            if (Math.abs(n) > 192) {
                return n <= 0 ? 0f : Float.POSITIVE_INFINITY;
            }
            return Math.scalb(Math.fma(higher, u, Math.fma(0x1.ffffecp-1f, b, 1.0f)), (int) n);
        }
        float j = Math.fma(higher, u, 0x1.ffffecp-1f * b);
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
}
