package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ2_XS: 256 weights in 32 runs of 8. Run r has a uint16: a 9-bit index into {@link IQTables#IQ2XS_GRID} and a
 * 7-bit sign index into {@link IQTables#KSIGNS_IQ2XS}. Each group of 32 has a scale byte whose low nibble scales
 * its first 16 weights and high nibble the last 16: weight = d * (0.5 + nibble) / 4 * magnitude * sign.
 */
public final class IQ2_XSBlock {
    public static final int WEIGHTS = 256;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 0;
    /** 32 little-endian uint16, one per run of 8. */
    public static final int QS_OFFSET = 2;
    /** 8 bytes of 4-bit scale pairs. */
    public static final int SCALES_OFFSET = 66;
    public static final int BYTES = 74;

    private IQ2_XSBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /** The grid index (bits 0-8) and sign index (bits 9-15) of run {@code r} (0-31). */
    public static int run(MemorySegment blocks, long block, int r) {
        return LittleEndian.u16(blocks, block + QS_OFFSET + 2L * r);
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
                int run = run(blocks, block, 4 * g + l);
                IQ2Runs.put(dst, out, l < 2 ? dLow : dHigh, IQTables.IQ2XS_GRID, run & 511, IQTables.KSIGNS_IQ2XS[run >>> 9]);
            }
        }
    }
}
