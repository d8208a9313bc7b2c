package glmj.kernel;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vectorized f16 rounding of {@link SmallBatchAttention} is Java's f16 store and load, lane for lane. */
class SmallBatchAttentionTest {

    @Test
    void vectorRoundingToHalfIsFloat16RoundTrip() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] special = {0f, -0f, 0x1p-25f, 0x1.8p-25f, 0x1p-24f, 0x1.8p-24f, 0x1.4p-24f, 0x1p-14f, 0x1.ffcp-15f,
                0x1.ffep-15f, 0x1.fffp-15f, -0x1.fffp-15f, 65504f, 65519.99f, 65520f, -65520f, 1e9f, -1e9f, 1f,
                1.00048828125f, 1.000244140625f, 1.000732421875f, -1.000732421875f, 0.1f, -3.3f, 1e-6f, -1e-7f};
        SplittableRandom random = new SplittableRandom(11);
        float[] values = new float[special.length + 4_000_000];
        System.arraycopy(special, 0, values, 0, special.length);
        for (int i = special.length; i < values.length; i++) {
            float v;
            do {
                // every exponent from f16 subnormals to beyond its range, every mantissa
                v = Float.intBitsToFloat((random.nextInt(0x65 - 0x30) + 0x30) << 23 | random.nextInt(1 << 23));
            } while (!Float.isFinite(v));
            values[i] = random.nextBoolean() ? v : -v;
        }
        float[] rounded = new float[lanes];
        for (int i = 0; i + lanes <= values.length; i += lanes) {
            SmallBatchAttention.toHalf(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, values, i)).intoArray(rounded, 0);
            for (int l = 0; l < lanes; l++) {
                float x = values[i + l];
                float expected = Float.float16ToFloat(Float.floatToFloat16(x));
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(rounded[l]),
                        () -> Float.toHexString(x) + " rounds to " + Float.toHexString(expected));
            }
        }
    }
}
