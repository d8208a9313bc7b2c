package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ1_M: 256 weights in 32 runs of 8 taken from {@link IQTables#IQ1S_GRID} (values -1, 0, 1), no separate fp16
 * field. Run r's 11-bit grid index has its low 8 bits in qs byte r and its high 3 bits in nibble r%2 of qh byte
 * r/2, whose bit 3 selects the sign of the shift. The 8 scale bytes, read as four uint16, hold 3-bit scales for
 * the 16 half-groups (16 weights; bits 3h..3h+2 of word h/4) and, in the top nibble of each word, the fp16
 * super-block scale: weight = d * (2*scale + 1) * (value ± 1/8).
 */
public final class IQ1_MBlock {
    public static final int WEIGHTS = 256;
    /** Shift added to the grid values (negated when the run's qh bit 3 is set). */
    public static final float DELTA = 0.125f;
    /** 32 bytes, the low 8 bits of each run's grid index. */
    public static final int QS_OFFSET = 0;
    /** 16 bytes, high index bits and shift sign of two runs each. */
    public static final int QH_OFFSET = 32;
    /** 8 bytes of scales, four little-endian uint16. */
    public static final int SCALES_OFFSET = 48;
    public static final int BYTES = 56;

    private IQ1_MBlock() {
    }

    private static int scaleWord(MemorySegment blocks, long block, int w) {
        return LittleEndian.u16(blocks, block + SCALES_OFFSET + 2L * w);
    }

    /** The super-block scale, assembled from the top nibbles of the four scale words. */
    public static float d(MemorySegment blocks, long block) {
        int half = (scaleWord(blocks, block, 0) >>> 12)
                | ((scaleWord(blocks, block, 1) >>> 8) & 0x00F0)
                | ((scaleWord(blocks, block, 2) >>> 4) & 0x0F00)
                | (scaleWord(blocks, block, 3) & 0xF000);
        return FloatFormats.f16ToF32(half);
    }

    /** The 3-bit scale of half-group {@code h} (0-15, 16 weights each). */
    public static int scale(MemorySegment blocks, long block, int h) {
        return (scaleWord(blocks, block, h / 4) >>> (3 * (h % 4))) & 7;
    }

    /** The qh nibble of run {@code r}: high index bits 0-2, shift sign bit 3. */
    public static int qh(MemorySegment blocks, long block, int r) {
        return (LittleEndian.u8(blocks, block + QH_OFFSET + r / 2) >>> (4 * (r % 2))) & 0xF;
    }

    public static int gridIndex(MemorySegment blocks, long block, int r) {
        return LittleEndian.u8(blocks, block + QS_OFFSET + r) | ((qh(blocks, block, r) & 7) << 8);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int h = 0; h < 16; h++) {
            float dh = d * (2 * scale(blocks, block, h) + 1);
            for (int r = 2 * h; r < 2 * h + 2; r++) {
                float delta = (qh(blocks, block, r) & 8) != 0 ? -DELTA : DELTA;
                int grid = 8 * gridIndex(blocks, block, r);
                for (int j = 0; j < 8; j++) {
                    dst[out++] = dh * (IQTables.IQ1S_GRID[grid + j] + delta);
                }
            }
        }
    }
}
