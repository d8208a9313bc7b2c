package glmj.tensor.blocks;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class Fp8E4M3Test {
    /**
     * PyTorch's decoding of every bit pattern, {@code torch.arange(256, dtype=torch.uint8).view(torch.float8_e4m3fn)
     * .float().view(torch.int32)} as hex, one per line, made by torch 2.13.0 (scripts/install-converter's
     * environment). Likewise for {@code float8_e8m0fnu}.
     */
    private static final String TORCH_E4M3 = "torch-float8_e4m3fn.txt";
    private static final String TORCH_E8M0 = "torch-float8_e8m0fnu.txt";

    @Test
    void everyBitPatternHasTheValueTheFormatDefines() {
        for (int bits = 0; bits < 256; bits++) {
            boolean negative = (bits & 0x80) != 0;
            int exponent = (bits >>> 3) & 0xF;
            int mantissa = bits & 7;
            float value = Fp8E4M3.toFloat(bits);
            if (exponent == 15 && mantissa == 7) {
                assertTrue(Float.isNaN(value), "S.1111.111 is NaN: " + bits);
                continue;
            }
            // subnormals m/8 * 2^(1-7), normals (1 + m/8) * 2^(e-7), in exact double arithmetic
            double magnitude = exponent == 0 ? mantissa / 8.0 * Math.pow(2, -6) : (1 + mantissa / 8.0) * Math.pow(2, exponent - 7);
            double expected = negative ? -magnitude : magnitude;
            assertEquals(Float.floatToRawIntBits((float) expected), Float.floatToRawIntBits(value), "bits " + bits);
        }
        assertEquals(Fp8E4M3.MAX, Fp8E4M3.toFloat(0x7E));
        assertEquals(-Fp8E4M3.MAX, Fp8E4M3.toFloat(0xFE));
        assertEquals(0x1p-9f, Fp8E4M3.toFloat(0x01), "the smallest subnormal");
        assertEquals(0x1p-6f, Fp8E4M3.toFloat(0x08), "the smallest normal");
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Fp8E4M3.toFloat(0x80)));
        assertEquals(Fp8E4M3.toFloat(0x3C), Fp8E4M3.toFloat(0x13C), "only the low 8 bits count");
    }

    @Test
    void everyBitPatternDecodesToTorchsFloatBitForBit() throws IOException {
        assertTorchTable(TORCH_E4M3, Fp8E4M3::toFloat);
    }

    @Test
    void everyE8M0ScaleDecodesToTorchsFloatBitForBit() throws IOException {
        assertTorchTable(TORCH_E8M0, FloatFormats::e8m0ToF32);
        for (int e = 1; e < 255; e++) {
            assertEquals(Math.scalb(1f, e - 127), FloatFormats.e8m0ToF32(e));
        }
    }

    /** Every byte decodes to the float bits of line {@code byte} of the resource. */
    private static void assertTorchTable(String resource, java.util.function.IntFunction<Float> decode) throws IOException {
        List<String> torch = resourceLines(resource);
        assertEquals(256, torch.size());
        for (int bits = 0; bits < 256; bits++) {
            assertEquals(Integer.parseUnsignedInt(torch.get(bits), 16), Float.floatToRawIntBits(decode.apply(bits)),
                    resource + ": byte 0x" + Integer.toHexString(bits));
        }
    }

    @Test
    void encodingRoundsToTheNearestValueTiesToEvenAndSaturates() {
        for (int bits = 0; bits < 256; bits++) {
            float value = Fp8E4M3.toFloat(bits);
            if (Float.isNaN(value)) {
                assertEquals(Fp8E4M3.NAN_BITS, Fp8E4M3.fromFloat(value));
                continue;
            }
            assertEquals(bits, Fp8E4M3.fromFloat(value), "exact values encode to themselves: " + value);
            int next = bits + 1;
            if (bits < 0x7E) {
                float above = Fp8E4M3.toFloat(next);
                float midpoint = (value + above) / 2; // exact: both have few mantissa bits
                int even = (bits & 1) == 0 ? bits : next;
                assertEquals(even, Fp8E4M3.fromFloat(midpoint), "a tie between " + value + " and " + above + " goes to the even one");
                assertEquals(bits, Fp8E4M3.fromFloat(Math.nextDown(midpoint)), "just below the midpoint of " + value);
                assertEquals(next, Fp8E4M3.fromFloat(Math.nextUp(midpoint)), "just above the midpoint of " + value);
                assertEquals(0x80 | Fp8E4M3.fromFloat(midpoint), Fp8E4M3.fromFloat(-midpoint), "negatives mirror positives");
            }
        }
        assertEquals(0x7E, Fp8E4M3.fromFloat(1e6f));
        assertEquals(0xFE, Fp8E4M3.fromFloat(Float.NEGATIVE_INFINITY));
        assertEquals(0x7E, Fp8E4M3.fromFloat(470f));
        assertEquals(0x00, Fp8E4M3.fromFloat(0x1p-11f), "below half the smallest subnormal");
        assertEquals(0x80, Fp8E4M3.fromFloat(-0f));
    }

    private static List<String> resourceLines(String name) throws IOException {
        try (InputStream in = Fp8E4M3Test.class.getResourceAsStream(name)) {
            assertNotNull(in, name + " is missing");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines().filter(l -> !l.isBlank()).toList();
        }
    }
}
