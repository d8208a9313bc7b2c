package glmj.quant;

/**
 * float to 16-bit float conversions exactly as ggml rounds them ({@code GGML_FP32_TO_FP16}, {@code GGML_FP32_TO_BF16}).
 */
public final class HalfFloats {

    private HalfFloats() {
    }

    /**
     * IEEE binary16 bits of {@code value}, rounded to nearest even; overflow gives infinity. ggml turns every NaN
     * into the quiet NaN {@code 0x7E00} keeping only the sign, where {@link Float#floatToFloat16} would keep payload bits.
     */
    public static short toF16(float value) {
        if (Float.isNaN(value)) {
            int sign = (Float.floatToRawIntBits(value) >>> 16) & 0x8000;
            return (short) (sign | 0x7E00);
        }
        return Float.floatToFloat16(value);
    }

    /**
     * bfloat16 bits of {@code value}, rounded to nearest even (subnormals kept); a NaN keeps its upper bits and is
     * made quiet.
     */
    public static short toBF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
