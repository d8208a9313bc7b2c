package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q5_0: 32 weights, weight = (q - 16) * d with 5-bit q. The low 4 bits are packed as in Q4_0 (element j low
 * nibble, element j + 16 high nibble of qs byte j); bit j of the 32-bit qh is the fifth bit of element j.
 */
public final class Q5_0Block {
    public static final int WEIGHTS = 32;
    /** fp16 scale. */
    public static final int D_OFFSET = 0;
    /** 32 high bits, a little-endian uint32. */
    public static final int QH_OFFSET = 2;
    /** 16 bytes of nibble pairs. */
    public static final int QS_OFFSET = 6;
    public static final int BYTES = 22;

    private Q5_0Block() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /** The fifth bits of all 32 elements, element j at bit j. */
    public static int qh(MemorySegment blocks, long block) {
        return LittleEndian.i32(blocks, block + QH_OFFSET);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int qh = qh(blocks, block);
        for (int j = 0; j < WEIGHTS / 2; j++) {
            int q = LittleEndian.u8(blocks, block + QS_OFFSET + j);
            int low = (q & 0xF) | (((qh >>> j) & 1) << 4);
            int high = (q >>> 4) | (((qh >>> (j + WEIGHTS / 2)) & 1) << 4);
            dst[dstOffset + j] = (low - 16) * d;
            dst[dstOffset + j + WEIGHTS / 2] = (high - 16) * d;
        }
    }
}
