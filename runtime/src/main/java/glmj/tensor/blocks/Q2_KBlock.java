package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q2_K: 256 weights in 16 sub-blocks of 16, weight = d * scale(s) * q - dmin * min(s) with 2-bit q and 4-bit
 * scale and min per sub-block s. Element e lives in qs byte 32*(e/128) + e%32 at bit 2*((e%128)/32).
 */
public final class Q2_KBlock {
    public static final int WEIGHTS = 256;
    /** 16 bytes, one per sub-block: scale in the low nibble, min in the high nibble. */
    public static final int SCALES_OFFSET = 0;
    /** 64 bytes of 2-bit quants. */
    public static final int QS_OFFSET = 16;
    /** fp16 super-block scale of the scales. */
    public static final int D_OFFSET = 80;
    /** fp16 super-block scale of the mins. */
    public static final int DMIN_OFFSET = 82;
    public static final int BYTES = 84;

    private Q2_KBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static float dmin(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + DMIN_OFFSET);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        float dmin = dmin(blocks, block);
        int out = dstOffset;
        for (int half = 0; half < 2; half++) {
            long qs = block + QS_OFFSET + 32 * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    int sc = LittleEndian.u8(blocks, block + SCALES_OFFSET + 8 * half + shift + part);
                    float dl = d * (sc & 0xF);
                    float ml = dmin * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        dst[out++] = dl * ((LittleEndian.u8(blocks, qs + 16 * part + l) >>> shift) & 3) - ml;
                    }
                }
            }
        }
    }
}
