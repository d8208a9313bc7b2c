package glmj.tensor.quantize;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizerApiTest {

    static final Set<GGMLType> SUPPORTED = EnumSet.of(GGMLType.F16, GGMLType.BF16, GGMLType.Q4_0, GGMLType.Q4_1,
            GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q8_0, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K,
            GGMLType.Q6_K, GGMLType.Q8_K, GGMLType.IQ4_NL, GGMLType.IQ4_XS, GGMLType.IQ1_S, GGMLType.IQ1_M,
            GGMLType.IQ2_XXS, GGMLType.IQ2_XS, GGMLType.IQ2_S, GGMLType.IQ3_XXS, GGMLType.IQ3_S);

    @Test
    void supportsEveryTypeLlamaQuantizeWritesAndQ8_K() {
        for (GGMLType type : GGMLType.values()) {
            assertEquals(SUPPORTED.contains(type), Quantizer.canQuantize(type), type.ggmlName);
        }
    }

    @Test
    void unsupportedTypeIsNamed() {
        try (Arena arena = Arena.ofConfined()) {
            var error = assertThrows(UnsupportedOperationException.class,
                    () -> Quantizer.quantize(GGMLType.TQ1_0, new float[256], arena));
            assertEquals("no quantizer for type tq1_0", error.getMessage());
        }
    }

    @Test
    void typesThatNeedImportanceRefuseToGoWithout() {
        try (Arena arena = Arena.ofConfined()) {
            for (GGMLType type : new GGMLType[] {GGMLType.IQ1_S, GGMLType.IQ2_XXS, GGMLType.IQ2_XS}) {
                assertTrue(Quantizer.requiresImportance(type));
                var error = assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(type, new float[256], arena));
                assertEquals("quantizing to " + type.ggmlName + " needs an importance matrix", error.getMessage());
            }
            float[] importance = new float[256];
            java.util.Arrays.fill(importance, 1);
            MemorySegment dst = arena.allocate(GGMLType.IQ2_XXS.byteSize(512));
            Quantizer.quantize(GGMLType.IQ2_XXS, new float[512], 0, 2, 256, importance, dst, 0);
        }
    }

    @Test
    void importanceMustHaveOneValuePerColumn() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(GGMLType.Q4_K.byteSize(512));
            var error = assertThrows(IllegalArgumentException.class,
                    () -> Quantizer.quantize(GGMLType.Q4_K, new float[512], 0, 1, 512, new float[256], dst, 0));
            assertEquals("an importance matrix of 256 columns does not fit rows of 512 weights", error.getMessage());
        }
    }

    @Test
    void partialBlockIsRejected() {
        try (Arena arena = Arena.ofConfined()) {
            var error = assertThrows(IllegalArgumentException.class,
                    () -> Quantizer.quantize(GGMLType.Q4_K, new float[300], arena));
            assertTrue(error.getMessage().contains("300"), error.getMessage());
        }
    }

    @Test
    void outOfRangeSourceOrDestinationIsRejected() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(34);
            var source = assertThrows(IllegalArgumentException.class,
                    () -> Quantizer.quantize(GGMLType.Q8_0, new float[40], 16, dst, 0, 32));
            assertTrue(source.getMessage().contains("offset 16"), source.getMessage());
            var destination = assertThrows(IllegalArgumentException.class,
                    () -> Quantizer.quantize(GGMLType.Q8_0, new float[32], 0, dst, 1, 32));
            assertTrue(destination.getMessage().contains("offset 1"), destination.getMessage());
        }
    }

    @Test
    void writesOnlyItsBlocksAtTheGivenOffsets() {
        Random random = new Random(5);
        float[] values = new float[4 * 256];
        float[] importance = new float[256];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < importance.length; i++) {
            importance[i] = 0.5f + random.nextFloat();
        }
        try (Arena arena = Arena.ofConfined()) {
            for (GGMLType type : SUPPORTED) {
                for (float[] weighting : new float[][] {null, importance}) {
                    if (weighting == null && Quantizer.requiresImportance(type)) {
                        continue;
                    }
                    String what = type.ggmlName + (weighting == null ? "" : " with importance");
                    long bytes = type.byteSize(512);
                    MemorySegment alone = arena.allocate(bytes);
                    Quantizer.quantize(type, java.util.Arrays.copyOfRange(values, 256, 768), 0, 2, 256, weighting, alone, 0);
                    MemorySegment dst = arena.allocate(bytes + 10);
                    dst.fill((byte) 0x5A);
                    Quantizer.quantize(type, values, 256, 2, 256, weighting, dst, 7);
                    assertEquals(-1, dst.asSlice(7, bytes).mismatch(alone), what);
                    for (long i : new long[] {0, 6, 7 + bytes, bytes + 9}) {
                        assertEquals((byte) 0x5A, dst.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), what + " byte " + i);
                    }
                }
            }
        }
    }
}
