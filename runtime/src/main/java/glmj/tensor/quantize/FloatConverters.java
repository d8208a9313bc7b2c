package glmj.tensor.quantize;

import glmj.tensor.blocks.FloatFormats;

import java.lang.foreign.MemorySegment;

import static glmj.tensor.quantize.BlockIo.putShort;

/**
 * F16 and BF16 "quantization": one rounded 16-bit float per weight ({@code ggml_fp32_to_fp16_row},
 * {@code ggml_fp32_to_bf16_row_ref}); an importance matrix changes nothing.
 */
public final class FloatConverters {

    private FloatConverters() {
    }

    public static void toF16(float[] x, int xo, MemorySegment y, long yo, int count, float[] importance) {
        for (int i = 0; i < count; i++) {
            putShort(y, yo + 2L * i, FloatFormats.f32ToF16(x[xo + i]));
        }
    }

    public static void toBF16(float[] x, int xo, MemorySegment y, long yo, int count, float[] importance) {
        for (int i = 0; i < count; i++) {
            putShort(y, yo + 2L * i, FloatFormats.f32ToBf16(x[xo + i]));
        }
    }
}
