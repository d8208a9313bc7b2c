package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q4_0: 32 weights, weight = (q - 8) * d with 4-bit q. Byte j of qs holds element j in its low nibble and
 * element j + 16 in its high nibble.
 */
public final class Q4_0Block {
    public static final int WEIGHTS = 32;
    /** fp16 scale. */
    public static final int D_OFFSET = 0;
    /** 16 bytes of nibble pairs. */
    public static final int QS_OFFSET = 2;
    public static final int BYTES = 18;

    private Q4_0Block() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        for (int j = 0; j < WEIGHTS / 2; j++) {
            int q = LittleEndian.u8(blocks, block + QS_OFFSET + j);
            dst[dstOffset + j] = ((q & 0xF) - 8) * d;
            dst[dstOffset + j + WEIGHTS / 2] = ((q >>> 4) - 8) * d;
        }
    }
}
