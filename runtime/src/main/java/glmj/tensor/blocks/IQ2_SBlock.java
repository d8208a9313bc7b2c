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

    public static int gridIndex(MemorySegment blocks, long block, int r) {
        int high = (LittleEndian.u8(blocks, block + QH_OFFSET + r / 4) >>> (2 * (r % 4))) & 3;
        return LittleEndian.u8(blocks, block + QS_OFFSET + r) | (high << 8);
    }

    public static int signs(MemorySegment blocks, long block, int r) {
        return LittleEndian.u8(blocks, block + SIGNS_OFFSET + r);
    }

    public static int scales(MemorySegment blocks, long block, int g) {
        return LittleEndian.u8(blocks, block + SCALES_OFFSET + g);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int scales = scales(blocks, block, g);
            float dLow = IQ2Runs.scale(d, scales & 0xF);
            float dHigh = IQ2Runs.scale(d, scales >>> 4);
            for (int l = 0; l < 4; l++, out += 8) {
                int r = 4 * g + l;
                IQ2Runs.put(dst, out, l < 2 ? dLow : dHigh, IQTables.IQ2S_GRID, gridIndex(blocks, block, r), signs(blocks, block, r));
            }
        }
    }
}
