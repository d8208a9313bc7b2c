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

    /** The 8 scale bytes as one little-endian long: scale word w in bits 16w..16w+15. */
    public static long scales(MemorySegment blocks, long block) {
        return LittleEndian.i64(blocks, block + SCALES_OFFSET);
    }

    /** The super-block scale, assembled from the top nibbles of the four scale words. */
    public static float d(long scales) {
        int half = (int) ((scales >>> 12) & 0x000F)
                | (int) ((scales >>> 24) & 0x00F0)
                | (int) ((scales >>> 36) & 0x0F00)
                | (int) ((scales >>> 48) & 0xF000);
        return FloatFormats.f16ToF32(half);
    }

    public static float d(MemorySegment blocks, long block) {
        return d(scales(blocks, block));
    }

    /** The 3-bit scale of half-group {@code h} (0-15, 16 weights each): bits 3(h%4).. of scale word h/4. */
    public static int scale(long scales, int h) {
        return (int) (scales >>> (16 * (h / 4) + 3 * (h % 4))) & 7;
    }

    /** The low index bytes of the four runs of group {@code g} (0-7) of 32 weights: run 4g+l in byte l. */
    public static int lowIndices(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + QS_OFFSET + 4L * g);
    }

    /** The two qh bytes of group {@code g}: run 4g+l's nibble in bits 4l..4l+3 (high index bits 0-2, shift sign bit 3). */
    public static int qh(MemorySegment blocks, long block, int g) {
        return LittleEndian.u16(blocks, block + QH_OFFSET + 2L * g);
    }

    /**
     * Run {@code l} (0-3) of a group, from its {@link #lowIndices} and {@link #qh}, as 12 bits: the grid index in bits
     * 0-10 (the qs byte, then the qh nibble's bits 0-2) and the shift's sign in bit 11 (the nibble's bit 3).
     */
    public static int run(int lowIndices, int qh, int l) {
        return ((lowIndices >>> (8 * l)) & 0xFF) | (((qh >>> (4 * l)) & 0xF) << 8);
    }

    /** The index into {@link IQTables#IQ1S_GRID} of a {@link #run}. */
    public static int gridIndex(int run) {
        return run & 0x7FF;
    }

    /** The sign of a {@link #run}'s shift: -1 when bit 11 is set (the shift is -{@link #DELTA}), else 1. */
    public static int deltaSign(int run) {
        return 1 - ((run >>> 10) & 2); // branch-free: the bit is random, a branch would mispredict
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        long scales = scales(blocks, block);
        float d = d(scales);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int lowIndices = lowIndices(blocks, block, g);
            int qh = qh(blocks, block, g);
            for (int l = 0; l < 4; l++) {
                float dh = d * (2 * scale(scales, 2 * g + l / 2) + 1);
                int run = run(lowIndices, qh, l);
                float delta = deltaSign(run) * DELTA;
                int grid = 8 * gridIndex(run);
                for (int j = 0; j < 8; j++) {
                    dst[out++] = dh * (IQTables.IQ1S_GRID[grid + j] + delta);
                }
            }
        }
    }
}
