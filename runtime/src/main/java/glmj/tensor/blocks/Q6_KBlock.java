package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q6_K: 256 weights in 16 sub-blocks of 16, weight = d * scale(s) * (q - 32) with 6-bit q and signed 8-bit
 * scales. In each half h (128 weights), element 32*k + l (k 0-3, l 0-31) has its low 4 bits in ql byte
 * 64*h + 32*(k%2) + l (nibble k/2) and its high 2 bits in qh byte 32*h + l at bit 2*k.
 */
public final class Q6_KBlock {
    public static final int WEIGHTS = 256;
    /** 128 bytes of low nibbles. */
    public static final int QL_OFFSET = 0;
    /** 64 bytes of high bit pairs. */
    public static final int QH_OFFSET = 128;
    /** 16 signed bytes, one per sub-block. */
    public static final int SCALES_OFFSET = 192;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 208;
    public static final int BYTES = 210;

    private Q6_KBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static int scale(MemorySegment blocks, long block, int s) {
        return LittleEndian.i8(blocks, block + SCALES_OFFSET + s);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        for (int half = 0; half < 2; half++) {
            long ql = block + QL_OFFSET + 64 * half;
            long qh = block + QH_OFFSET + 32 * half;
            for (int k = 0; k < 4; k++) {
                int shift = 4 * (k >>> 1);
                for (int l = 0; l < 32; l++) {
                    int low = (LittleEndian.u8(blocks, ql + 32 * (k & 1) + l) >>> shift) & 0xF;
                    int high = (LittleEndian.u8(blocks, qh + l) >>> (2 * k)) & 3;
                    float dl = d * scale(blocks, block, 8 * half + 2 * k + l / 16);
                    dst[dstOffset + 128 * half + 32 * k + l] = dl * ((low | (high << 4)) - 32);
                }
            }
        }
    }
}
