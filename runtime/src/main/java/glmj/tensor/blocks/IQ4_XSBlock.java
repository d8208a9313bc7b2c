package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * IQ4_XS: 256 weights in 8 groups of 32, weight = d * (scale(g) - 32) * {@link IQTables#KVALUES_IQ4NL}[q] with
 * 4-bit q and 6-bit group scales (low 4 bits in nibble g%2 of scales_l byte g/2, high 2 bits at bits 2g of
 * scales_h). Each 16-byte run of qs holds group g's first 16 weights in its low nibbles, the last 16 in its high.
 */
public final class IQ4_XSBlock {
    public static final int WEIGHTS = 256;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 0;
    /** little-endian uint16, high 2 bits of the 8 group scales. */
    public static final int SCALES_H_OFFSET = 2;
    /** 4 bytes, low 4 bits of the 8 group scales. */
    public static final int SCALES_L_OFFSET = 4;
    /** 128 bytes of nibbles. */
    public static final int QS_OFFSET = 8;
    public static final int BYTES = 136;

    private IQ4_XSBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /** The signed scale (-32..31) of group {@code g} (0-7). */
    public static int scale(MemorySegment blocks, long block, int g) {
        int low = (LittleEndian.u8(blocks, block + SCALES_L_OFFSET + g / 2) >>> (4 * (g % 2))) & 0xF;
        int high = (LittleEndian.u16(blocks, block + SCALES_H_OFFSET) >>> (2 * g)) & 3;
        return (low | (high << 4)) - 32;
    }

    /** Stores the eight signed group scales (-32..31) in the layout {@link #scale} reads. */
    public static void putScales(MemorySegment blocks, long block, int[] scales) {
        int high = 0;
        for (int g = 0; g < 8; g++) {
            int biased = scales[g] + 32;
            high |= (biased >>> 4) << (2 * g);
            if (g % 2 == 1) {
                int low = ((scales[g - 1] + 32) & 0xF) | ((biased & 0xF) << 4);
                blocks.set(ValueLayout.JAVA_BYTE, block + SCALES_L_OFFSET + g / 2, (byte) low);
            }
        }
        blocks.set(LittleEndian.SHORT, block + SCALES_H_OFFSET, (short) high);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        byte[] values = IQTables.KVALUES_IQ4NL;
        for (int g = 0; g < 8; g++) {
            float dg = d * scale(blocks, block, g);
            long qs = block + QS_OFFSET + 16L * g;
            int out = dstOffset + 32 * g;
            for (int j = 0; j < 16; j++) {
                int q = LittleEndian.u8(blocks, qs + j);
                dst[out + j] = dg * values[q & 0xF];
                dst[out + j + 16] = dg * values[q >>> 4];
            }
        }
    }
}
