package glmj.tensor.blocks;

/**
 * FP8 E4M3 as OCP's 8-bit float specification defines it and PyTorch names it {@code float8_e4m3fn} (safetensors dtype
 * {@code F8_E4M3}): one sign bit, four exponent bits with bias 7, three mantissa bits; exponent 0 holds the subnormals
 * m * 2^-9; there are no infinities, and S.1111.111 is NaN, so the largest magnitude is 448. The decoded floats are
 * bit for bit PyTorch's (c10's {@code fp8e4m3fn_to_fp32}), NaNs included.
 */
public final class Fp8E4M3 {
    /** The largest finite magnitude. */
    public static final float MAX = 448f;
    /** Bits of the value that is NaN in either sign, without its sign bit. */
    public static final int NAN_BITS = 0x7F;

    private static final float[] VALUES = new float[256];

    static {
        for (int bits = 0; bits < 256; bits++) {
            VALUES[bits] = decode(bits);
        }
    }

    private Fp8E4M3() {
    }

    /** The float that the low 8 bits of {@code bits} encode. */
    public static float toFloat(int bits) {
        return VALUES[bits & 0xFF];
    }

    /**
     * The E4M3 bits nearest to {@code value}, ties to even; magnitudes beyond {@link #MAX} saturate to it (as
     * quantizers clamp before casting) and NaN becomes {@code 0x7F}.
     */
    public static int fromFloat(float value) {
        int sign = (Float.floatToRawIntBits(value) >>> 24) & 0x80;
        float magnitude = Math.abs(value);
        if (Float.isNaN(value)) {
            return NAN_BITS;
        }
        int bits;
        if (magnitude < 0x1p-6f) {
            // subnormal (or 8, the smallest normal, when it rounds up): m * 2^-9, m rounded to even
            bits = (int) Math.rint(magnitude * 0x1p9f);
        } else if (magnitude >= MAX) {
            bits = 0x7E;
        } else {
            int f = Float.floatToRawIntBits(magnitude);
            int exponent = (f >>> 23) - 120;
            int mantissa = f & 0x7F_FFFF;
            int kept = mantissa >>> 20;
            int rest = mantissa & 0xF_FFFF;
            if (rest > 0x8_0000 || (rest == 0x8_0000 && (kept & 1) == 1)) {
                kept++;
            }
            bits = Math.min(0x7E, (exponent << 3) + kept);
        }
        return sign | bits;
    }

    /**
     * The float of {@code bits} computed from the format: the value m * 2^-9 or (1 + m/8) * 2^(e-7), with PyTorch's NaN
     * (the f32 exponent all ones, the mantissa bits shifted in as they are).
     */
    static float decode(int bits) {
        int sign = (bits & 0x80) << 24;
        int exponent = (bits >>> 3) & 0xF;
        int mantissa = bits & 0x7;
        if ((bits & NAN_BITS) == NAN_BITS) {
            // c10 keeps the shifted payload of the normal path and forces the exponent to all ones
            return Float.intBitsToFloat(sign | 0x7FF0_0000);
        }
        if (exponent == 0) {
            float magnitude = Math.scalb((float) mantissa, -9);
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | (exponent + 120) << 23 | mantissa << 20);
    }
}
