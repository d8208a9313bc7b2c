package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * The 12-byte scale field shared by Q4_K and Q5_K: eight 6-bit scales and eight 6-bit mins. Sub-blocks 0-3 keep
 * them in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 take their low 4 bits from a nibble
 * of bytes 8-11 and their high 2 bits from the top bits of bytes 0-3 (scales) and 4-7 (mins).
 */
public final class KScales {
    public static final int BYTES = 12;

    private KScales() {
    }

    /** The 6-bit scale of sub-block {@code j} (0-7) of the scale field at {@code scalesOffset}. */
    public static int scale(MemorySegment seg, long scalesOffset, int j) {
        if (j < 4) {
            return LittleEndian.u8(seg, scalesOffset + j) & 63;
        }
        return (LittleEndian.u8(seg, scalesOffset + j + 4) & 0xF) | ((LittleEndian.u8(seg, scalesOffset + j - 4) >>> 6) << 4);
    }

    /** The 6-bit min of sub-block {@code j} (0-7) of the scale field at {@code scalesOffset}. */
    public static int min(MemorySegment seg, long scalesOffset, int j) {
        if (j < 4) {
            return LittleEndian.u8(seg, scalesOffset + j + 4) & 63;
        }
        return (LittleEndian.u8(seg, scalesOffset + j + 4) >>> 4) | ((LittleEndian.u8(seg, scalesOffset + j) >>> 6) << 4);
    }

    /** Packs eight 6-bit {@code scales} and eight 6-bit {@code mins} (each 0-63) into the field at {@code scalesOffset}. */
    public static void put(MemorySegment seg, long scalesOffset, int[] scales, int[] mins) {
        byte[] packed = new byte[BYTES];
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
        MemorySegment.copy(MemorySegment.ofArray(packed), 0, seg, scalesOffset, BYTES);
    }
}
