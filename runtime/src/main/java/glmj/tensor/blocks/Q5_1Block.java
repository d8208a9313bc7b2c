package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q5_1: 32 weights, weight = q * d + m with 5-bit q, packed as in {@link Q5_0Block}.
 */
public final class Q5_1Block {
    public static final int WEIGHTS = 32;
    /** fp16 scale. */
    public static final int D_OFFSET = 0;
    /** fp16 offset (the block minimum). */
    public static final int M_OFFSET = 2;
    /** 32 high bits, a little-endian uint32, element j at bit j. */
    public static final int QH_OFFSET = 4;
    /** 16 bytes of nibble pairs. */
    public static final int QS_OFFSET = 8;
    public static final int BYTES = 24;

    private Q5_1Block() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static float m(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + M_OFFSET);
    }

    /** The fifth bits of all 32 elements, element j at bit j. */
    public static int qh(MemorySegment blocks, long block) {
        return LittleEndian.i32(blocks, block + QH_OFFSET);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        float m = m(blocks, block);
        int qh = qh(blocks, block);
        for (int j = 0; j < WEIGHTS / 2; j++) {
            int q = LittleEndian.u8(blocks, block + QS_OFFSET + j);
            int low = (q & 0xF) | (((qh >>> j) & 1) << 4);
            int high = (q >>> 4) | (((qh >>> (j + WEIGHTS / 2)) & 1) << 4);
            dst[dstOffset + j] = low * d + m;
            dst[dstOffset + j + WEIGHTS / 2] = high * d + m;
        }
    }
}
