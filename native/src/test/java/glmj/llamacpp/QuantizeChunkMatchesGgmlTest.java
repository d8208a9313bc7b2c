package glmj.llamacpp;

import glmj.tensor.GGMLType;
import glmj.tensor.quantize.Quantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our quantizers write byte for byte what {@code ggml_quantize_chunk} (llama-quantize's call) writes, with and
 * without an importance matrix, for every type llama-quantize writes: several rows at once of 256 to 8192 weights,
 * drawn from distributions with outliers, all-zero blocks and magnitudes from subnormal to huge, with importance
 * spread over five orders of magnitude and some zero columns.
 */
class QuantizeChunkMatchesGgmlTest {

    private static final int[] ROW_LENGTHS = {256, 512, 1024, 4096, 8192};

    enum Distribution {
        GAUSSIAN, OUTLIERS, UNIFORM, TINY, SUBNORMAL, HUGE, SMALL_INTEGERS, MIXED_MAGNITUDES, CONSTANT_RUNS, HEAVY_TAILED
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ4_NL", "IQ4_XS"})
    void matchesGgmlWithAndWithoutImportance(GGMLType type) {
        Oracle.library();
        int compared = 0;
        for (Distribution distribution : Distribution.values()) {
            int perRow = ROW_LENGTHS[distribution.ordinal() % ROW_LENGTHS.length];
            int rows = Math.max(1, 8192 / perRow);
            long seed = 31L * distribution.ordinal() + type.id;
            float[] weights = weights(distribution, rows, perRow, seed);
            if (!Quantizer.requiresImportance(type)) {
                assertSameBytes(type, weights, rows, perRow, null, distribution + " without importance");
                compared++;
            }
            float[] importance = importance(perRow, seed);
            assertSameBytes(type, weights, rows, perRow, importance, distribution + " with importance");
            compared++;
        }
        assertEquals(Distribution.values().length * (Quantizer.requiresImportance(type) ? 1 : 2), compared);
    }

    /** Rows quantized one chunk at a time write the same as the whole tensor at once: no state crosses rows. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q2_K", "Q4_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ3_S", "IQ4_NL"})
    void rowsAreIndependent(GGMLType type) {
        int perRow = 512;
        float[] weights = weights(Distribution.OUTLIERS, 6, perRow, 99);
        float[] importance = importance(perRow, 99);
        try (Arena arena = Arena.ofConfined()) {
            long rowBytes = type.byteSize(perRow);
            MemorySegment whole = arena.allocate(6 * rowBytes);
            MemorySegment apart = arena.allocate(6 * rowBytes);
            Quantizer.quantize(type, weights, 0, 6, perRow, importance, whole, 0);
            for (int row = 0; row < 6; row++) {
                Quantizer.quantize(type, weights, row * perRow, 1, perRow, importance, apart, row * rowBytes);
            }
            assertEquals(-1, whole.mismatch(apart), type.ggmlName);
        }
    }

    @Test
    void theSameTypesNeedImportanceAsInGgml() {
        Oracle.library();
        for (GGMLType type : GgmlTypeTraitsTest.ggmlTypes()) {
            assertEquals(Ggml.ggml_quantize_requires_imatrix(type.id), Quantizer.requiresImportance(type), type.ggmlName);
        }
    }

    private static void assertSameBytes(GGMLType type, float[] weights, int rows, int perRow, float[] importance, String what) {
        try (Arena arena = Arena.ofConfined()) {
            long rowBytes = type.byteSize(perRow);
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, weights);
            MemorySegment imatrix = importance == null ? MemorySegment.NULL : arena.allocateFrom(ValueLayout.JAVA_FLOAT, importance);
            MemorySegment expected = arena.allocate(rows * rowBytes, 16);
            long written = Ggml.ggml_quantize_chunk(type.id, src, expected, 0, rows, perRow, imatrix);
            assertEquals(rows * rowBytes, written);
            MemorySegment actual = arena.allocate(rows * rowBytes, 16);
            actual.fill((byte) 0x5A); // every byte must be written
            Quantizer.quantize(type, weights, 0, rows, perRow, importance, actual, 0);
            long mismatch = expected.mismatch(actual);
            if (mismatch >= 0) {
                long block = mismatch / type.typeSize;
                long offset = block * type.typeSize;
                fail(type.ggmlName + ", " + what + ", rows of " + perRow + ": block " + block + " differs at byte "
                        + (mismatch - offset) + ": ggml " + hex(expected.asSlice(offset, type.typeSize)) + ", ours "
                        + hex(actual.asSlice(offset, type.typeSize)));
            }
        }
    }

    /** {@code rows * perRow} weights, with an all-zero 256-weight block and scattered all-zero 32-weight blocks. */
    static float[] weights(Distribution distribution, int rows, int perRow, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int n = rows * perRow;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (distribution) {
                case GAUSSIAN -> (float) random.nextGaussian() * 0.02f;
                case OUTLIERS -> (float) random.nextGaussian() * (random.nextInt(64) == 0 ? 50 : 1);
                case UNIFORM -> (float) random.nextDouble(-1, 1);
                case TINY -> (float) random.nextGaussian() * 1e-7f;
                case SUBNORMAL -> (float) random.nextGaussian() * 1e-39f;
                case HUGE -> (float) random.nextGaussian() * 1e6f * (random.nextInt(16) == 0 ? 100 : 1);
                case SMALL_INTEGERS -> random.nextInt(-8, 9);
                case MIXED_MAGNITUDES -> (float) (random.nextGaussian() * Math.pow(2, random.nextInt(-20, 12)));
                case CONSTANT_RUNS -> (i / 16) % 3 == 0 ? 0.75f : (i / 16) % 3 == 1 ? -2f : random.nextInt(5) * 0.5f;
                case HEAVY_TAILED -> (float) (random.nextGaussian() / Math.max(0.05, Math.abs(random.nextGaussian())));
            };
        }
        if (n >= 512) {
            Arrays.fill(x, 256, 512, 0f);
        }
        for (int block = 5; block < n / 32; block += 37) {
            Arrays.fill(x, block * 32, block * 32 + 32, 0f);
        }
        return x;
    }

    /** Per-column importance as llama-imatrix leaves it (mean squared activations): log-normal, some columns 0. */
    static float[] importance(int perRow, long seed) {
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        float[] importance = new float[perRow];
        for (int i = 0; i < perRow; i++) {
            importance[i] = random.nextInt(50) == 0 ? 0 : (float) Math.exp(1.5 * random.nextGaussian()) * 0.1f;
        }
        return importance;
    }

    private static String hex(MemorySegment bytes) {
        StringBuilder text = new StringBuilder();
        for (byte b : bytes.toArray(ValueLayout.JAVA_BYTE)) {
            text.append(String.format("%02x", b));
        }
        return text.toString();
    }
}
