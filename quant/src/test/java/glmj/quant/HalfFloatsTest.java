package glmj.quant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HalfFloatsTest {

    private static void assertF16(int expectedBits, float value) {
        assertEquals((short) expectedBits, HalfFloats.toF16(value), () -> "f16 of " + value);
    }

    private static void assertBF16(int expectedBits, int floatBits) {
        assertEquals((short) expectedBits, HalfFloats.toBF16(Float.intBitsToFloat(floatBits)),
                () -> "bf16 of 0x" + Integer.toHexString(floatBits));
    }

    @Test
    void f16RoundsToNearestEven() {
        assertF16(0x3C00, 1f + 0x1p-11f);
        assertF16(0x3C02, 1f + 0x3p-11f);
        assertF16(0x3C01, 1f + 0x1.004p-11f);
        assertF16(0xBC00, -1f - 0x1p-11f);
    }

    @Test
    void f16SubnormalsAndOverflow() {
        assertF16(0x0001, 0x1p-24f);
        assertF16(0x0000, 0x1p-25f);
        assertF16(0x0001, 0x1.8p-25f);
        assertF16(0x0400, 0x1p-14f);
        assertF16(0x7BFF, 65504f);
        assertF16(0x7BFF, 65519.99f);
        assertF16(0x7C00, 65520f);
        assertF16(0xFC00, -Float.MAX_VALUE);
        assertF16(0x8000, -0f);
    }

    @Test
    void f16NaNBecomesCanonicalQuietNaNWithSign() {
        assertF16(0x7E00, Float.NaN);
        assertF16(0x7E00, Float.intBitsToFloat(0x7F800001));
        assertF16(0xFE00, Float.intBitsToFloat(0xFFC12345));
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertBF16(0x3F80, 0x3F808000);
        assertBF16(0x3F82, 0x3F818000);
        assertBF16(0x3F81, 0x3F808001);
        assertBF16(0x0000, 0x00008000);
        assertBF16(0x0002, 0x00018000);
        assertBF16(0x7F80, 0x7F7FFFFF);
    }

    @Test
    void bf16NaNKeepsUpperBitsAndIsQuiet() {
        assertBF16(0x7FC0, 0x7F800001);
        assertBF16(0xFFC0, 0xFF80ABCD);
        assertBF16(0x7FC1, 0x7F81ABCD);
        assertBF16(0x7F80, 0x7F800000);
    }
}
