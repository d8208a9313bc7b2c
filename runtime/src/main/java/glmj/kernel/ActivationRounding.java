package glmj.kernel;

import glmj.tensor.GGMLType;
import glmj.tensor.blocks.FloatFormats;

/**
 * The rounding ggml's CPU matmul applies to activations before a dot product with weights of a given type: it
 * converts them to that type's {@code vec_dot_type} (f16, bf16, or 8-bit blocks q8_0 / q8_1 / q8_K). Computing the
 * dot product of the dequantized weights with the rounded activations reproduces llama.cpp's values up to the order
 * of float additions.
 */
public enum ActivationRounding {
    /** f32 weights: activations stay f32. */
    NONE(1),
    F16(1),
    BF16(1),
    /** Blocks of 32 with scale amax/127 stored as f16, quants rounded half to even (ggml's AVX2 quantize_row_q8_0). */
    Q8_0(32),
    /** As q8_0 (the block sum q8_1 adds does not change the quants). */
    Q8_1(32),
    /** Blocks of 256 with the f32 scale -max/127 of the largest magnitude, quants rounded half to even, at most 127. */
    Q8_K(256);

    /** Weights per block: rows must be a whole number of them. */
    public final int blockSize;

    ActivationRounding(int blockSize) {
        this.blockSize = blockSize;
    }

    /** ggml's vec_dot_type of each weight type (ggml-cpu.c type_traits_cpu). */
    public static ActivationRounding forWeights(GGMLType type) {
        return switch (type) {
            case F32 -> NONE;
            case F16 -> F16;
            case BF16 -> BF16;
            case Q4_0, Q5_0, Q8_0, IQ4_NL, MXFP4, NVFP4, Q1_0, Q2_0 -> Q8_0;
            case Q4_1, Q5_1, Q8_1 -> Q8_1;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M, IQ4_XS,
                 TQ1_0, TQ2_0 -> Q8_K;
            default -> throw new IllegalArgumentException("ggml has no matmul for weights of type " + type.ggmlName);
        };
    }

    /** Writes the activations {@code x[offset..offset+n)} as ggml rounds them into {@code dst[dstOffset..]}. */
    public void apply(float[] x, int offset, int n, float[] dst, int dstOffset) {
        switch (this) {
            case NONE -> System.arraycopy(x, offset, dst, dstOffset, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(Float.floatToFloat16(x[offset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = FloatFormats.bf16ToF32(FloatFormats.f32ToBf16(x[offset + i]) & 0xffff);
                }
            }
            case Q8_0, Q8_1 -> {
                for (int b = 0; b < n; b += blockSize) {
                    q8_0Block(x, offset + b, dst, dstOffset + b);
                }
            }
            case Q8_K -> {
                for (int b = 0; b < n; b += blockSize) {
                    q8_KBlock(x, offset + b, dst, dstOffset + b);
                }
            }
        }
    }

    private static void q8_0Block(float[] x, int offset, float[] dst, int dstOffset) {
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[offset + i]));
        }
        float d = Float.float16ToFloat(Float.floatToFloat16(amax / 127.f));
        float id = amax != 0.0f ? 127.f / amax : 0.0f;
        for (int i = 0; i < 32; i++) {
            dst[dstOffset + i] = (float) Math.rint(x[offset + i] * id) * d;
        }
    }

    private static void q8_KBlock(float[] x, int offset, float[] dst, int dstOffset) {
        float amax = 0;
        float max = 0;
        for (int i = 0; i < 256; i++) {
            float ax = Math.abs(x[offset + i]);
            if (ax > amax) {
                amax = ax;
                max = x[offset + i];
            }
        }
        if (amax == 0) {
            java.util.Arrays.fill(dst, dstOffset, dstOffset + 256, 0f);
            return;
        }
        float iscale = -127.f / max;
        float d = 1 / iscale;
        for (int i = 0; i < 256; i++) {
            dst[dstOffset + i] = Math.min(127, (int) Math.rint(iscale * x[offset + i])) * d;
        }
    }
}
