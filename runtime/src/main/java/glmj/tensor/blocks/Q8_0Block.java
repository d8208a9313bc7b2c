package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/** Q8_0: 32 weights, weight = q * d with signed 8-bit q. */
public final class Q8_0Block {
    public static final int WEIGHTS = 32;
    /** fp16 scale. */
    public static final int D_OFFSET = 0;
    /** 32 signed bytes. */
    public static final int QS_OFFSET = 2;
    public static final int BYTES = 34;

    private Q8_0Block() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        for (int j = 0; j < WEIGHTS; j++) {
            dst[dstOffset + j] = LittleEndian.i8(blocks, block + QS_OFFSET + j) * d;
        }
    }
}
