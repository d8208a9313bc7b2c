package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q8_K: 256 weights, weight = d * q with a float32 scale and signed 8-bit q; bsums caches the sum of each 16
 * quants for dot products with K-quants.
 */
public final class Q8_KBlock {
    public static final int WEIGHTS = 256;
    /** float32 scale. */
    public static final int D_OFFSET = 0;
    /** 256 signed bytes. */
    public static final int QS_OFFSET = 4;
    /** 16 little-endian int16 sums of 16 quants each. */
    public static final int BSUMS_OFFSET = 260;
    public static final int BYTES = 292;

    private Q8_KBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f32(blocks, block + D_OFFSET);
    }

    public static int bsum(MemorySegment blocks, long block, int group) {
        return blocks.get(LittleEndian.SHORT, block + BSUMS_OFFSET + 2L * group);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        for (int j = 0; j < WEIGHTS; j++) {
            dst[dstOffset + j] = d * LittleEndian.i8(blocks, block + QS_OFFSET + j);
        }
    }
}
