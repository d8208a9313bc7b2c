package glmj.tensor.blocks;

/**
 * The small float formats of ggml, converted exactly as ggml-impl.h does, so results match bit for bit
 * (including subnormals, infinities and NaN payloads).
 */
public final class FloatFormats {
    private FloatFormats() {
    }

    /** IEEE binary16 (low 16 bits of {@code half}) to float; ggml's branch-free widening, which quiets NaNs. */
    public static float f16ToF32(int half) {
        int w = half << 16;
        int sign = w & 0x8000_0000;
        int twoW = w + w;
        // Normal halves: move exponent and mantissa into float position, then rebias by a power-of-two multiply.
        float normalized = Float.intBitsToFloat((twoW >>> 4) + (0xE0 << 23)) * 0x1.0p-112f;
        // Subnormal halves: the mantissa as the low bits of 0.5f's mantissa, minus 0.5f.
        float denormalized = Float.intBitsToFloat((twoW >>> 17) | (126 << 23)) - 0.5f;
        float magnitude = Integer.compareUnsigned(twoW, 1 << 27) < 0 ? denormalized : normalized;
        return Float.intBitsToFloat(sign | Float.floatToRawIntBits(magnitude));
    }

    /** Float to IEEE binary16 bits, rounding to nearest even as ggml's reference conversion; NaN becomes 0x7E00. */
    public static short f32ToF16(float value) {
        float base = (Math.abs(value) * 0x1.0p+112f) * 0x1.0p-110f;
        int w = Float.floatToRawIntBits(value);
        int shl1W = w + w;
        int sign = w & 0x8000_0000;
        int bias = shl1W & 0xFF00_0000;
        if (Integer.compareUnsigned(bias, 0x7100_0000) < 0) {
            bias = 0x7100_0000;
        }
        base = Float.intBitsToFloat((bias >>> 1) + 0x0780_0000) + base;
        int bits = Float.floatToRawIntBits(base);
        int nonSign = ((bits >>> 13) & 0x7C00) + (bits & 0x0FFF);
        return (short) ((sign >>> 16) | (Integer.compareUnsigned(shl1W, 0xFF00_0000) > 0 ? 0x7E00 : nonSign));
    }

    /** bfloat16 (low 16 bits of {@code bf16}) to float: the upper half of a float. */
    public static float bf16ToF32(int bf16) {
        return Float.intBitsToFloat(bf16 << 16);
    }

    /** Float to bfloat16 bits, rounding to nearest even; NaNs stay NaN and are made quiet. */
    public static short f32ToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7FFF + ((bits >>> 16) & 1))) >>> 16);
    }

    /**
     * An E8M0 scale, 2^(e-127), as PyTorch's {@code float8_e8m0fnu} decodes it (safetensors dtype {@code F8_E8M0}):
     * e = 0 gives the subnormal 2^-127 and e = 255 is NaN (with PyTorch's bits, 0x7F800001).
     */
    public static float e8m0ToF32(int e) {
        return switch (e & 0xFF) {
            case 0 -> Float.intBitsToFloat(0x0040_0000);
            case 0xFF -> Float.intBitsToFloat(0x7F80_0001);
            default -> Float.intBitsToFloat((e & 0xFF) << 23);
        };
    }

    /**
     * Half the value of an E8M0 scale (2^(e-127) / 2), the form MXFP4 uses because its E2M1 table holds doubled
     * values. e = 0 and 1 give the subnormals 2^-128 and 2^-127; e = 255 is not treated as NaN, as in ggml.
     */
    public static float e8m0ToF32Half(int e) {
        int bits = e < 2 ? 0x0020_0000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }
}
