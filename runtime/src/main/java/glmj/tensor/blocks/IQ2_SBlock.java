package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ2_S: 256 weights in 32 runs of 8. Run r has a 10-bit index into {@link IQTables#IQ2S_GRID} (low 8 bits in
 * qs byte r, high 2 bits at bits 2*(r%4) of qh byte r/4) and an explicit sign byte (bit j negates element j).
 * Each group of 32 has a scale byte whose low nibble scales its first 16 weights and high nibble the last 16:
 * weight = d * (0.5 + nibble) / 4 * magnitude * sign.
 */
public final class IQ2_SBlock {
    public static final int WEIGHTS = 256;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 0;
    /** 32 bytes, the low 8 bits of each run's grid index. */
    public static final int QS_OFFSET = 2;
    /** 32 sign bytes, one per run. */
    public static final int SIGNS_OFFSET = 34;
    /** 8 bytes, the high 2 bits of the grid indices of four runs each. */
    public static final int QH_OFFSET = 66;
    /** 8 bytes of 4-bit scale pairs. */
    public static final int SCALES_OFFSET = 74;
    public static final int BYTES = 82;

    private IQ2_SBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /** The low index bytes of the four runs of group {@code g} (0-7): run 4g+l in byte l. */
    public static int lowIndices(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + QS_OFFSET + 4L * g);
    }

    /** The qh byte of group {@code g}: the high 2 bits of run 4g+l's grid index in bits 2l, 2l+1. */
    public static int highIndices(MemorySegment blocks, long block, int g) {
        return LittleEndian.u8(blocks, block + QH_OFFSET + g);
    }

    /**
     * The index into {@link IQTables#IQ2S_GRID} of run {@code l} (0-3) of a group,
     * from its {@link #lowIndices} and {@link #highIndices}.
     */
    public static int gridIndex(int lowIndices, int highIndices, int l) {
        return ((lowIndices >>> (8 * l)) & 0xFF) | (((highIndices >>> (2 * l)) & 3) << 8);
    }

    /** The sign bytes of the four runs of group {@code g}: run 4g+l in byte l, whose bit j negates weight j. */
    public static int signs(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + SIGNS_OFFSET + 4L * g);
    }

    /** The sign byte of run {@code l} (0-3) from a group's {@link #signs}. */
    public static int runSigns(int signs, int l) {
        return (signs >>> (8 * l)) & 0xFF;
    }

    /** The scale byte of group {@code g} (0-7), laid out as {@link IQ2_XSBlock#scale}. */
    public static int scales(MemorySegment blocks, long block, int g) {
        return LittleEndian.u8(blocks, block + SCALES_OFFSET + g);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int scales = scales(blocks, block, g);
            float dLow = IQ2Runs.scale(d, IQ2_XSBlock.scale(scales, 0));
            float dHigh = IQ2Runs.scale(d, IQ2_XSBlock.scale(scales, 1));
            int lowIndices = lowIndices(blocks, block, g);
            int highIndices = highIndices(blocks, block, g);
            int signs = signs(blocks, block, g);
            for (int l = 0; l < 4; l++, out += 8) {
                IQ2Runs.put(dst, out, l < 2 ? dLow : dHigh, IQTables.IQ2S_GRID, gridIndex(lowIndices, highIndices, l), runSigns(signs, l));
            }
        }
    }
}
