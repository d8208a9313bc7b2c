package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q4_K: 256 weights in 8 sub-blocks of 32, weight = d * scale(s) * q - dmin * min(s) with 4-bit q; d, dmin and the
 * 6-bit scales and mins are the {@link KQuantHeader}. Each 32-byte run of qs holds sub-block 2k in its low nibbles
 * and 2k+1 in its high nibbles.
 */
public final class Q4_KBlock {
    public static final int WEIGHTS = 256;
    /** 128 bytes of nibbles. */
    public static final int QS_OFFSET = KQuantHeader.BYTES;
    public static final int BYTES = QS_OFFSET + 128;

    private Q4_KBlock() {
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
                dst[out++] = dl * ((LittleEndian.u8(blocks, qs + l) >>> shift) & 0xF) - ml;
            }
        }
    }
}
