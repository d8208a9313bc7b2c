package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q5_K: 256 weights in 8 sub-blocks of 32, weight = d * scale(s) * q - dmin * min(s) with 5-bit q; d, dmin and the
 * 6-bit scales and mins are the {@link KQuantHeader}. The low 4 bits are packed as in {@link Q4_KBlock}; the fifth
 * bit of element l of sub-block s is bit s of qh byte l.
 */
public final class Q5_KBlock {
    public static final int WEIGHTS = 256;
    /** 32 bytes of fifth bits. */
    public static final int QH_OFFSET = KQuantHeader.BYTES;
    /** 128 bytes of nibbles. */
    public static final int QS_OFFSET = QH_OFFSET + 32;
    public static final int BYTES = QS_OFFSET + 128;

    private Q5_KBlock() {
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = KQuantHeader.d(blocks, block);
        float dmin = KQuantHeader.dmin(blocks, block);
        int out = dstOffset;
        for (int s = 0; s < 8; s++) {
            float dl = d * KQuantHeader.scale(blocks, block, s);
            float ml = dmin * KQuantHeader.min(blocks, block, s);
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
