package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q4_1: 32 weights, weight = q * d + m with 4-bit q. Byte j of qs holds element j in its low nibble and
 * element j + 16 in its high nibble.
 */
public final class Q4_1Block {
    public static final int WEIGHTS = 32;
    /** fp16 scale. */
    public static final int D_OFFSET = 0;
    /** fp16 offset (the block minimum). */
    public static final int M_OFFSET = 2;
    /** 16 bytes of nibble pairs. */
    public static final int QS_OFFSET = 4;
    public static final int BYTES = 20;

    private Q4_1Block() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static float m(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + M_OFFSET);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        float m = m(blocks, block);
        for (int j = 0; j < WEIGHTS / 2; j++) {
            int q = LittleEndian.u8(blocks, block + QS_OFFSET + j);
            dst[dstOffset + j] = (q & 0xF) * d + m;
            dst[dstOffset + j + WEIGHTS / 2] = (q >>> 4) * d + m;
        }
    }
}
