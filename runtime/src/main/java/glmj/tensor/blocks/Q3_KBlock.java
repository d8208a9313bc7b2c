package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * Q3_K: 256 weights in 16 sub-blocks of 16, weight = d * (scale(s) - 32) * (q - 4 * !hbit) with 2-bit q, one high
 * bit per weight (a clear bit subtracts 4) and 6-bit scales. Element e lives in qs byte 32*(e/128) + e%32 at bit
 * 2*((e%128)/32), and its high bit in hmask byte e%32 at bit e/32.
 */
public final class Q3_KBlock {
    public static final int WEIGHTS = 256;
    /** 32 bytes of high bits. */
    public static final int HMASK_OFFSET = 0;
    /** 64 bytes of 2-bit quants. */
    public static final int QS_OFFSET = 32;
    /** 12 bytes of sixteen 6-bit scales, see {@link #scale}. */
    public static final int SCALES_OFFSET = 96;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 108;
    public static final int BYTES = 110;

    private Q3_KBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /**
     * The signed scale (-32..31) of sub-block {@code s} (0-15): its low 4 bits are nibble s/8 of scales byte s%8,
     * its high 2 bits are bits 2*(s/4) of scales byte 8 + s%4.
     */
    public static int scale(MemorySegment blocks, long block, int s) {
        return ((int) (biasedScales(blocks, block, s >>> 3) >>> (8 * (s & 7))) & 0xFF) - 32;
    }

    /** The scales of sub-blocks 8*half .. 8*half+7 plus 32 (so 0-63), unpacked into the bytes of a long. */
    public static long biasedScales(MemorySegment blocks, long block, int half) {
        int b0 = LittleEndian.i32(blocks, block + SCALES_OFFSET);
        int b4 = LittleEndian.i32(blocks, block + SCALES_OFFSET + 4);
        int b8 = LittleEndian.i32(blocks, block + SCALES_OFFSET + 8);
        int shift = 4 * half;
        int first = ((b0 >>> shift) & 0x0f0f0f0f) | (((b8 >>> shift) & 0x03030303) << 4);
        int second = ((b4 >>> shift) & 0x0f0f0f0f) | (((b8 >>> (shift + 2)) & 0x03030303) << 4);
        return (first & 0xFFFFFFFFL) | ((long) second << 32);
    }

    /** Stores the sixteen signed scales (-32..31) in the layout {@link #scale} reads. */
    public static void putScales(MemorySegment blocks, long block, int[] scales) {
        long low = 0; // bytes 0-7: the low nibbles, scale s in byte s % 8 at bit 4 (s / 8)
        int high = 0; // bytes 8-11: the high bit pairs, scale s in byte 8 + s % 4 at bit 2 (s / 4)
        for (int s = 0; s < 16; s++) {
            int biased = scales[s] + 32;
            low |= (long) (biased & 0xF) << (8 * (s & 7) + 4 * (s >>> 3));
            high |= ((biased >>> 4) & 3) << (8 * (s & 3) + 2 * (s >>> 2));
        }
        blocks.set(LittleEndian.LONG, block + SCALES_OFFSET, low);
        blocks.set(LittleEndian.INT, block + SCALES_OFFSET + 8, high);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        int s = 0;
        int bit = 0;
        for (int half = 0; half < 2; half++) {
            long qs = block + QS_OFFSET + 32 * half;
            for (int shift = 0; shift < 8; shift += 2, bit++) {
                for (int part = 0; part < 2; part++) {
                    float dl = d * scale(blocks, block, s++);
                    for (int l = 16 * part; l < 16 * part + 16; l++) {
                        int q = (LittleEndian.u8(blocks, qs + l) >>> shift) & 3;
                        int high = (LittleEndian.u8(blocks, block + HMASK_OFFSET + l) >>> bit) & 1;
                        dst[out++] = dl * (q - (high == 0 ? 4 : 0));
                    }
                }
            }
        }
    }
}
