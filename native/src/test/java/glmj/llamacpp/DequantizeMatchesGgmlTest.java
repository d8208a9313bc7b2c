package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import glmj.tensor.GGMLType;
import glmj.tensor.blocks.IQ1_MBlock;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q3_KBlock;
import glmj.tensor.blocks.Q4_1Block;
import glmj.tensor.blocks.Q5_1Block;
import glmj.tensor.blocks.Q6_KBlock;
import glmj.tensor.blocks.Q8_KBlock;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our decoders against ggml's own {@code to_float}, bit for bit, on random blocks: every quant byte random (so
 * every grid index, sign pattern and sub-scale occurs), and the float scale fields drawn from zero, subnormal,
 * tiny, ordinary and large magnitudes of both signs, never NaN or infinity.
 */
class DequantizeMatchesGgmlTest {
    private static final int BLOCKS = 512;
    /** Our side reads from this odd offset, to exercise unaligned field access. */
    private static final long OUR_OFFSET = 3;

    private static final Set<GGMLType> GLM5_TYPES = EnumSet.of(
            GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1,
            GGMLType.Q8_0, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.Q8_K,
            GGMLType.IQ1_S, GGMLType.IQ1_M, GGMLType.IQ2_XXS, GGMLType.IQ2_XS, GGMLType.IQ2_S, GGMLType.IQ3_XXS,
            GGMLType.IQ3_S, GGMLType.IQ4_NL, GGMLType.IQ4_XS, GGMLType.MXFP4);

    @Test
    void exactlyTheGlm5TypesAreReadable() {
        Set<GGMLType> readable = EnumSet.noneOf(GGMLType.class);
        for (GGMLType type : GGMLType.values()) {
            if (type.isReadable()) {
                readable.add(type);
            }
        }
        assertEquals(GLM5_TYPES, readable);
    }

    static Stream<GGMLType> glm5Types() {
        return GLM5_TYPES.stream();
    }

    @ParameterizedTest
    @MethodSource("glm5Types")
    void dequantizeMatchesGgmlBitForBit(GGMLType type) {
        Random random = new Random(0x5EED_0000L + type.id);
        int count = switch (type) {
            case F16, BF16 -> 1 << 16;   // every 16-bit pattern, NaNs and infinities included
            case F32 -> 1 << 16;         // random bit patterns
            default -> BLOCKS * type.blockSize;
        };
        byte[] bytes = randomBlocks(type, count, random);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(bytes.length, 16);
            MemorySegment.copy(bytes, 0, src, ValueLayout.JAVA_BYTE, 0, bytes.length);
            MemorySegment ggmlOut = arena.allocate((long) count * Float.BYTES, 16);
            if (type == GGMLType.F32) {
                // ggml has no to_float for f32: its tensors are used as stored
                MemorySegment.copy(src, 0, ggmlOut, 0, src.byteSize());
            } else {
                Ggml.toFloat(type.id, src, ggmlOut, count);
            }

            MemorySegment shifted = arena.allocate(OUR_OFFSET + bytes.length);
            MemorySegment.copy(bytes, 0, shifted, ValueLayout.JAVA_BYTE, OUR_OFFSET, bytes.length);
            float[] ours = new float[count];
            type.dequantize(shifted, OUR_OFFSET, ours, 0, count);

            for (int i = 0; i < count; i++) {
                int expected = ggmlOut.getAtIndex(ValueLayout.JAVA_INT, i);
                int actual = Float.floatToRawIntBits(ours[i]);
                if (expected != actual) {
                    fail(type.ggmlName + ": weight " + i + " (block " + i / type.blockSize + ", element " + i % type.blockSize
                            + ") is " + ours[i] + " (0x" + Integer.toHexString(actual) + "), ggml gives "
                            + Float.intBitsToFloat(expected) + " (0x" + Integer.toHexString(expected) + ")");
                }
            }
        }
    }

    private static byte[] randomBlocks(GGMLType type, int count, Random random) {
        byte[] bytes = new byte[Math.toIntExact(type.byteSize(count))];
        if (type == GGMLType.F16 || type == GGMLType.BF16) {
            for (int i = 0; i < count; i++) {
                bytes[2 * i] = (byte) i;
                bytes[2 * i + 1] = (byte) (i >>> 8);
            }
            return bytes;
        }
        random.nextBytes(bytes);
        MemorySegment blocks = MemorySegment.ofArray(bytes);
        for (long block = 0; block < bytes.length; block += type.typeSize) {
            switch (type) {
                case F32 -> { }   // any bit pattern, NaNs included, must come through unchanged
                case Q8_K -> blocks.set(LittleEndian.FLOAT, block + Q8_KBlock.D_OFFSET, randomScale32(random));
                case Q4_1 -> setHalves(blocks, block, random, Q4_1Block.D_OFFSET, Q4_1Block.M_OFFSET);
                case Q5_1 -> setHalves(blocks, block, random, Q5_1Block.D_OFFSET, Q5_1Block.M_OFFSET);
                case Q2_K -> setHalves(blocks, block, random, Q2_KBlock.D_OFFSET, Q2_KBlock.DMIN_OFFSET);
                case Q4_K, Q5_K -> setHalves(blocks, block, random, KQuantHeader.D_OFFSET, KQuantHeader.DMIN_OFFSET);
                case Q3_K -> setHalves(blocks, block, random, Q3_KBlock.D_OFFSET);
                case Q6_K -> setHalves(blocks, block, random, Q6_KBlock.D_OFFSET);
                case IQ1_M -> setIq1mScale(blocks, block, randomHalf(random));
                case MXFP4 -> { }  // every E8M0 byte is a valid scale
                // the remaining formats start with their fp16 scale
                default -> setHalves(blocks, block, random, 0);
            }
        }
        return bytes;
    }

    private static void setHalves(MemorySegment blocks, long block, Random random, int... offsets) {
        for (int offset : offsets) {
            blocks.set(LittleEndian.SHORT, block + offset, randomHalf(random));
        }
    }

    /** IQ1_M keeps its fp16 scale in the top nibbles of its four scale words. */
    private static void setIq1mScale(MemorySegment blocks, long block, short half) {
        for (int w = 0; w < 4; w++) {
            long offset = block + IQ1_MBlock.SCALES_OFFSET + 2L * w;
            int word = blocks.get(LittleEndian.SHORT, offset) & 0x0FFF | ((half >>> (4 * w)) & 0xF) << 12;
            blocks.set(LittleEndian.SHORT, offset, (short) word);
        }
    }

    /** A finite fp16: zero, subnormal, tiny, ordinary or large magnitude, either sign. */
    private static short randomHalf(Random random) {
        int exponent = switch (random.nextInt(5)) {
            case 0 -> 0;                              // zero or subnormal
            case 1 -> 1 + random.nextInt(4);          // tiny normal
            case 2 -> 26 + random.nextInt(5);         // large, up to 65504
            default -> 8 + random.nextInt(16);        // ordinary
        };
        int mantissa = random.nextInt(8) == 0 ? 0 : random.nextInt(1 << 10);
        int sign = random.nextBoolean() ? 0x8000 : 0;
        return (short) (sign | exponent << 10 | mantissa);
    }

    /** A finite float32 scale with the same spread, plus subnormal and huge floats. */
    private static float randomScale32(Random random) {
        int exponent = switch (random.nextInt(5)) {
            case 0 -> 0;
            case 1 -> 1 + random.nextInt(20);
            case 2 -> 200 + random.nextInt(55);
            default -> 100 + random.nextInt(56);
        };
        int sign = random.nextBoolean() ? 0x8000_0000 : 0;
        return Float.intBitsToFloat(sign | exponent << 23 | random.nextInt(1 << 23));
    }
}
