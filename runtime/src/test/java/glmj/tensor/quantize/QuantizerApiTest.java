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
            GGMLType.Q6_K, GGMLType.Q8_K, GGMLType.IQ4_NL, GGMLType.IQ4_XS);

    @Test
    void supportsExactlyTheReferenceQuantizerTypes() {
        for (GGMLType type : GGMLType.values()) {
            assertEquals(SUPPORTED.contains(type), Quantizer.canQuantize(type), type.ggmlName);
        }
    }

    @Test
    void unsupportedTypeIsNamed() {
        try (Arena arena = Arena.ofConfined()) {
            var error = assertThrows(UnsupportedOperationException.class,
                    () -> Quantizer.quantize(GGMLType.IQ2_XXS, new float[256], arena));
            assertEquals("no quantizer for type iq2_xxs", error.getMessage());
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
        float[] values = new float[3 * 256];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            for (GGMLType type : SUPPORTED) {
                float[] middle = java.util.Arrays.copyOfRange(values, 256, 512);
                MemorySegment alone = Quantizer.quantize(type, middle, arena);
                long bytes = type.byteSize(256);
                MemorySegment dst = arena.allocate(bytes + 10);
                dst.fill((byte) 0x5A);
                Quantizer.quantize(type, values, 256, dst, 7, 256);
                assertEquals(-1, dst.asSlice(7, bytes).mismatch(alone), type.ggmlName);
                for (long i : new long[] {0, 6, 7 + bytes, bytes + 9}) {
                    assertEquals((byte) 0x5A, dst.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), type.ggmlName + " byte " + i);
                }
            }
        }
    }
}
