package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ1_S: 256 weights in 8 groups of 32, each 4 runs of 8 taken from {@link IQTables#IQ1S_GRID} (values -1, 0, 1).
 * Group g has a uint16 qh: bits 3l..3l+2 are the high bits of run l's 11-bit grid index (low 8 bits in qs),
 * bits 12-14 a 3-bit scale, bit 15 the sign of the shift: weight = d * (2*scale + 1) * (value ± 1/8).
 */
public final class IQ1_SBlock {
    public static final int WEIGHTS = 256;
    /** Shift added to the grid values (negated when qh bit 15 is set). */
    public static final float DELTA = 0.125f;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 0;
    /** 32 bytes, the low 8 bits of each run's grid index. */
    public static final int QS_OFFSET = 2;
    /** 8 little-endian uint16, one per group of 32. */
    public static final int QH_OFFSET = 34;
    public static final int BYTES = 50;

    private IQ1_SBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /** The low index bytes of the four runs of group {@code g} (0-7): run 4g+l in byte l. */
    public static int lowIndices(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + QS_OFFSET + 4L * g);
    }

    public static int qh(MemorySegment blocks, long block, int g) {
        return LittleEndian.u16(blocks, block + QH_OFFSET + 2L * g);
    }

    /** The grid index of run {@code l} (0-3) of a group, from its {@link #lowIndices} and {@link #qh}. */
    public static int gridIndex(int lowIndices, int qh, int l) {
        return ((lowIndices >>> (8 * l)) & 0xFF) | (((qh >>> (3 * l)) & 7) << 8);
    }

    /** The 3-bit scale level of a group's {@link #qh}. */
    public static int scale(int qh) {
        return (qh >>> 12) & 7;
    }

    /** The sign of the group's shift: -1 when qh bit 15 is set (the shift is -{@link #DELTA}), else 1. */
    public static int deltaSign(int qh) {
        return 1 - ((qh >>> 14) & 2); // branch-free: the bit is random, a branch would mispredict
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int qh = qh(blocks, block, g);
            int lowIndices = lowIndices(blocks, block, g);
            float dg = d * (2 * scale(qh) + 1);
            float delta = deltaSign(qh) * DELTA;
            for (int l = 0; l < 4; l++) {
                int grid = 8 * gridIndex(lowIndices, qh, l);
                for (int j = 0; j < 8; j++) {
                    dst[out++] = dg * (IQTables.IQ1S_GRID[grid + j] + delta);
                }
            }
        }
    }
}
