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
        long scales = block + SCALES_OFFSET;
        if (j < 4) {
            return LittleEndian.u8(blocks, scales + j) & 63;
        }
        return (LittleEndian.u8(blocks, scales + j + 4) & 0xF) | ((LittleEndian.u8(blocks, scales + j - 4) >>> 6) << 4);
    }

    /** The 6-bit min of sub-block {@code j} (0-7). */
    public static int min(MemorySegment blocks, long block, int j) {
        long scales = block + SCALES_OFFSET;
        if (j < 4) {
            return LittleEndian.u8(blocks, scales + j + 4) & 63;
        }
        return (LittleEndian.u8(blocks, scales + j + 4) >>> 4) | ((LittleEndian.u8(blocks, scales + j) >>> 6) << 4);
    }

    /** Writes the header: fp16 bits {@code d} and {@code dmin}, eight 6-bit {@code scales} and {@code mins} (each 0-63). */
    public static void put(MemorySegment blocks, long block, short d, short dmin, int[] scales, int[] mins) {
        blocks.set(LittleEndian.SHORT, block + D_OFFSET, d);
        blocks.set(LittleEndian.SHORT, block + DMIN_OFFSET, dmin);
        byte[] packed = new byte[SCALES_BYTES];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                packed[j] = (byte) scales[j];
                packed[j + 4] = (byte) mins[j];
            } else {
                packed[j + 4] = (byte) ((scales[j] & 0xF) | ((mins[j] & 0xF) << 4));
                packed[j - 4] |= (byte) ((scales[j] >>> 4) << 6);
                packed[j] |= (byte) ((mins[j] >>> 4) << 6);
            }
        }
        MemorySegment.copy(MemorySegment.ofArray(packed), 0, blocks, block + SCALES_OFFSET, SCALES_BYTES);
    }
}
