package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q5_K: 256 weights in 8 sub-blocks of 32, weight = d * scale(s) * q - dmin * min(s) with 5-bit q and 6-bit
 * scales and mins ({@link KScales}). The low 4 bits are packed as in {@link Q4_KBlock}; the fifth bit of element
 * l of sub-block s is bit s of qh byte l.
 */
public final class Q5_KBlock {
    public static final int WEIGHTS = 256;
    /** fp16 super-block scale of the scales. */
    public static final int D_OFFSET = 0;
    /** fp16 super-block scale of the mins. */
    public static final int DMIN_OFFSET = 2;
    /** {@link KScales#BYTES} bytes of packed 6-bit scales and mins. */
    public static final int SCALES_OFFSET = 4;
    /** 32 bytes of fifth bits. */
    public static final int QH_OFFSET = 16;
    /** 128 bytes of nibbles. */
    public static final int QS_OFFSET = 48;
    public static final int BYTES = 176;

    private Q5_KBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static float dmin(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + DMIN_OFFSET);
    }

    public static int scale(MemorySegment blocks, long block, int s) {
        return KScales.scale(blocks, block + SCALES_OFFSET, s);
    }

    public static int min(MemorySegment blocks, long block, int s) {
        return KScales.min(blocks, block + SCALES_OFFSET, s);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        float dmin = dmin(blocks, block);
        int out = dstOffset;
        for (int s = 0; s < 8; s++) {
            float dl = d * scale(blocks, block, s);
            float ml = dmin * min(blocks, block, s);
            long qs = block + QS_OFFSET + 32 * (s >>> 1);
            int shift = 4 * (s & 1);
            for (int l = 0; l < 32; l++) {
                int low = (LittleEndian.u8(blocks, qs + l) >>> shift) & 0xF;
                int high = (LittleEndian.u8(blocks, block + QH_OFFSET + l) >>> s) & 1;
                dst[out++] = dl * (low + 16 * high) - ml;
            }
        }
    }
}
