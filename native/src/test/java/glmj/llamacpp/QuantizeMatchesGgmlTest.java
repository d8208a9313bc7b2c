package glmj.llamacpp;

import glmj.tensor.quantize.Quantizer;
import glmj.tensor.GGMLType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Without an importance matrix our quantizers write byte for byte what ggml's {@code from_float_ref} writes, for rows
 * drawn from several distributions (fixed seeds), each with all-zero blocks mixed in. (IQ4_NL's reference skips
 * the scale search its chunk quantizer, and ours, does: {@link QuantizeChunkMatchesGgmlTest} checks it.)
 */
class QuantizeMatchesGgmlTest {

    private static final int ROW = 4096;
    private static final int SEEDS = 3;

    enum Distribution {
        GAUSSIAN, UNIFORM, OUTLIERS, TINY, SUBNORMAL, HUGE, SMALL_INTEGERS, MIXED_MAGNITUDES, CONSTANT_RUNS
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "Q8_K", "IQ4_XS"})
    void matchesGgmlReferenceQuantizer(GGMLType type) {
        assertTrue(Quantizer.canQuantize(type));
        int rows = 0;
        for (Distribution distribution : Distribution.values()) {
            for (int seed = 1; seed <= SEEDS; seed++) {
                assertSameBytes(type, row(distribution, seed), distribution + " seed " + seed);
                rows++;
            }
        }
        assertEquals(Distribution.values().length * SEEDS, rows);
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void matchesGgmlOnSpecialFloats(GGMLType type) {
        float[] values = {
                0f, -0f, Float.NaN, Float.intBitsToFloat(0xFFC12345), Float.intBitsToFloat(0x7F800001),
                Float.intBitsToFloat(0xFF80ABCD), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_NORMAL, 65504f, 65519.99f, 65520f,
                -65536f, 0x1p-24f, 0x1p-25f, 0x1.8p-25f, 0x1p-14f, 0x1.ff8p-15f, 1f + 0x1p-11f, 1f + 0x3p-11f,
                1f + 0x1p-8f, 1f + 0x3p-8f, 1f + 0x1.000002p-8f, Float.intBitsToFloat(0x3F80_8000),
                Float.intBitsToFloat(0x3F81_8000), Float.intBitsToFloat(0x7F7F_FFFF), Float.intBitsToFloat(0x0000_8000),
                Float.intBitsToFloat(0x8001_8000), (float) Math.PI
        };
        float[] row = new float[values.length * 64];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < row.length; i++) {
            row[i] = i < values.length ? values[i] : Float.intBitsToFloat(random.nextInt());
        }
        assertSameBytes(type, row, "special floats and random bit patterns");
    }

    private static void assertSameBytes(GGMLType type, float[] row, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, row);
            MemorySegment expected = arena.allocate(type.byteSize(row.length), 16);
            // Arena memory starts zeroed: ggml leaves the bsums of an all-zero Q8_K block unwritten, we write zeros
            Ggml.fromFloatRef(type.id, src, expected, row.length);
            MemorySegment actual = Quantizer.quantize(type, row, arena);
            for (long block = 0; block < row.length / type.blockSize; block++) {
                long offset = block * type.typeSize;
                long mismatch = expected.asSlice(offset, type.typeSize).mismatch(actual.asSlice(offset, type.typeSize));
                if (mismatch >= 0) {
                    fail(type.ggmlName + ", " + what + ": block " + block + " differs at byte " + mismatch + ": ggml "
                            + hex(expected.asSlice(offset, type.typeSize)) + ", ours " + hex(actual.asSlice(offset, type.typeSize)));
                }
            }
        }
    }

    /** A row of {@link #ROW} values with some all-zero 256-weight and 32-weight blocks. */
    private static float[] row(Distribution distribution, int seed) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + distribution.ordinal());
        float[] row = new float[ROW];
        for (int i = 0; i < ROW; i++) {
            row[i] = switch (distribution) {
                case GAUSSIAN -> (float) random.nextGaussian();
                case UNIFORM -> (float) random.nextDouble(-1, 1);
                case OUTLIERS -> (float) random.nextGaussian() * (random.nextInt(64) == 0 ? 50 : 1);
                case TINY -> (float) random.nextGaussian() * 1e-7f;
                case SUBNORMAL -> (float) random.nextGaussian() * 1e-39f;
                case HUGE -> (float) random.nextGaussian() * 1e30f * (random.nextInt(16) == 0 ? 1e8f : 1);
                case SMALL_INTEGERS -> random.nextInt(-8, 9);
                case MIXED_MAGNITUDES -> (float) (random.nextGaussian() * Math.pow(2, random.nextInt(-30, 30)));
                case CONSTANT_RUNS -> (i / 16) % 3 == 0 ? 0.75f : (i / 16) % 3 == 1 ? -2f : random.nextInt(5) * 0.5f;
            };
        }
        Arrays.fill(row, 256, 512, 0f);
        for (int block = 21; block < ROW / 32; block += 37) {
            Arrays.fill(row, block * 32, block * 32 + 32, 0f);
        }
        return row;
    }

    private static String hex(MemorySegment bytes) {
        StringBuilder text = new StringBuilder();
        for (byte b : bytes.toArray(ValueLayout.JAVA_BYTE)) {
            text.append(String.format("%02x", b));
        }
        return text.toString();
    }
}
