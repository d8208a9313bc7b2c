package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * The 16 bytes that open a Q4_K or Q5_K super-block: fp16 {@code d} (scale of the scales), fp16 {@code dmin} (scale
 * of the mins), then eight 6-bit scales and eight 6-bit mins packed in 12 bytes. Sub-blocks 0-3 keep them in the low
 * 6 bits of bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 take their low 4 bits from a nibble of bytes 8-11 and
 * their high 2 bits from the top bits of bytes 0-3 (scales) and 4-7 (mins).
 */
public final class KQuantHeader {
    public static final int D_OFFSET = 0;
    public static final int DMIN_OFFSET = 2;
    public static final int SCALES_OFFSET = 4;
    public static final int SCALES_BYTES = 12;
    /** Where the quants of the super-block start. */
    public static final int BYTES = SCALES_OFFSET + SCALES_BYTES;

    private KQuantHeader() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static float dmin(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + DMIN_OFFSET);
    }

    /** The 6-bit scale of sub-block {@code j} (0-7). */
    public static int scale(MemorySegment blocks, long block, int j) {
        return (int) (scales(blocks, block) >>> (8 * j)) & 0xFF;
    }

    /** The 6-bit min of sub-block {@code j} (0-7). */
    public static int min(MemorySegment blocks, long block, int j) {
        return (int) (mins(blocks, block) >>> (8 * j)) & 0xFF;
    }

    /** The eight 6-bit scales unpacked into the bytes of a long, sub-block j in byte j. */
    public static long scales(MemorySegment blocks, long block) {
        int b0 = LittleEndian.i32(blocks, block + SCALES_OFFSET);
        int b8 = LittleEndian.i32(blocks, block + SCALES_OFFSET + 8);
        int low = b0 & LOW6;
        int high = (b8 & LOW4) | (((b0 >>> 6) & LOW2) << 4);
        return (low & 0xFFFFFFFFL) | ((long) high << 32);
    }

    /** The eight 6-bit mins unpacked into the bytes of a long, sub-block j in byte j. */
    public static long mins(MemorySegment blocks, long block) {
        int b4 = LittleEndian.i32(blocks, block + SCALES_OFFSET + 4);
        int b8 = LittleEndian.i32(blocks, block + SCALES_OFFSET + 8);
        int low = b4 & LOW6;
        int high = ((b8 >>> 4) & LOW4) | (((b4 >>> 6) & LOW2) << 4);
        return (low & 0xFFFFFFFFL) | ((long) high << 32);
    }

    private static final int LOW6 = 0x3f3f3f3f;
    private static final int LOW4 = 0x0f0f0f0f;
    private static final int LOW2 = 0x03030303;

    /**
     * Writes the header: fp16 bits {@code d} and {@code dmin}, eight 6-bit {@code scales} and {@code mins}. Levels
     * above 63 (up to 255) are packed as ggml packs its {@code uint8_t} levels, their extra bits spilling over.
     */
    public static void put(MemorySegment blocks, long block, short d, short dmin, int[] scales, int[] mins) {
        blocks.set(LittleEndian.SHORT, block + D_OFFSET, d);
        blocks.set(LittleEndian.SHORT, block + DMIN_OFFSET, dmin);
        long low = 0; // bytes 0-7: scales and mins of sub-blocks 0-3, and the high bits of 4-7
        int high = 0; // bytes 8-11: the low nibbles of sub-blocks 4-7
        for (int j = 0; j < 4; j++) {
            low |= (scales[j] & 0xFFL) << (8 * j) | (mins[j] & 0xFFL) << (8 * (j + 4));
        }
        for (int j = 4; j < 8; j++) {
            high |= ((scales[j] & 0xF) | ((mins[j] & 0xF) << 4)) << (8 * (j - 4));
            low |= (((scales[j] >>> 4) << 6) & 0xFFL) << (8 * (j - 4)) | (((mins[j] >>> 4) << 6) & 0xFFL) << (8 * j);
        }
        blocks.set(LittleEndian.LONG, block + SCALES_OFFSET, low);
        blocks.set(LittleEndian.INT, block + SCALES_OFFSET + 8, high);
    }
}
