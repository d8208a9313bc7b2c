package glmj.tensor.blocks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** ggml's conversions checked against the JDK's independent IEEE implementations. */
class FloatFormatsTest {

    @Test
    void everyHalfWidensLikeTheJdk() {
        for (int half = 0; half < 1 << 16; half++) {
            float ours = FloatFormats.f16ToF32(half);
            float jdk = Float.float16ToFloat((short) half);
            if (Float.isNaN(jdk)) {
                int bits = Float.floatToRawIntBits(ours);
                assertTrue(Float.isNaN(ours), () -> "half 0x" + Integer.toHexString(bits));
                // ggml keeps sign and payload and sets the quiet bit
                assertEquals(Float.floatToRawIntBits(jdk) | 0x0040_0000, bits, "half 0x" + Integer.toHexString(half));
            } else {
                assertEquals(Float.floatToRawIntBits(jdk), Float.floatToRawIntBits(ours), "half 0x" + Integer.toHexString(half));
            }
        }
    }

    @Test
    void halfSpecialValues() {
        assertEquals(-0.0f, FloatFormats.f16ToF32(0x8000));
        assertEquals(0x1.0p-24f, FloatFormats.f16ToF32(0x0001));          // smallest subnormal
        assertEquals(0x1.ff8p-15f, FloatFormats.f16ToF32(0x03FF));        // largest subnormal
        assertEquals(65504f, FloatFormats.f16ToF32(0x7BFF));
        assertEquals(Float.NEGATIVE_INFINITY, FloatFormats.f16ToF32(0xFC00));
        assertEquals(1f, FloatFormats.f16ToF32(0x3C00));
    }

    @Test
    void narrowingToHalfRoundsLikeTheJdk() {
        for (int half = 0; half < 1 << 16; half++) {
            float value = Float.float16ToFloat((short) half);
            if (!Float.isNaN(value)) {
                assertEquals((short) half, FloatFormats.f32ToF16(value), "half 0x" + Integer.toHexString(half));
            }
        }
        Random random = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            float value = Float.intBitsToFloat(random.nextInt());
            if (!Float.isNaN(value)) {
                assertEquals(Float.floatToFloat16(value), FloatFormats.f32ToF16(value), "float " + value);
            }
        }
        assertEquals((short) 0x7E00, FloatFormats.f32ToF16(Float.NaN));
        assertEquals((short) 0x3C00, FloatFormats.f32ToF16(1f + 0x1.0p-11f));             // tie goes to even
        assertEquals((short) 0x3C02, FloatFormats.f32ToF16(1f + 3 * 0x1.0p-11f));         // tie goes to even
    }

    @Test
    void bfloat16() {
        assertEquals(1f, FloatFormats.bf16ToF32(0x3F80));
        assertEquals(-2f, FloatFormats.bf16ToF32(0xC000));
        assertEquals((short) 0x3F80, FloatFormats.f32ToBf16(Float.intBitsToFloat(0x3F80_8000)));   // tie to even
        assertEquals((short) 0x3F82, FloatFormats.f32ToBf16(Float.intBitsToFloat(0x3F81_8000)));   // tie to even
        assertEquals((short) 0x3F81, FloatFormats.f32ToBf16(Float.intBitsToFloat(0x3F80_8001)));
        assertEquals((short) 0x7FC1, FloatFormats.f32ToBf16(Float.intBitsToFloat(0x7F81_0000)));   // NaN made quiet
        for (int bf16 = 0; bf16 < 1 << 16; bf16++) {
            float value = FloatFormats.bf16ToF32(bf16);
            if (!Float.isNaN(value)) {
                assertEquals((short) bf16, FloatFormats.f32ToBf16(value));
            }
        }
    }

    @Test
    void e8m0HalfIsTwoToTheExponentMinus128() {
        for (int e = 0; e < 256; e++) {
            assertEquals(Math.scalb(1f, e - 128), FloatFormats.e8m0ToF32Half(e), "e8m0 " + e);
        }
    }
}
