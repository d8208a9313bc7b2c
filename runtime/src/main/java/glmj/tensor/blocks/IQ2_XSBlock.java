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

    /** The four runs of group {@code g} (0-7) of 32 weights: run 4g+l in bits 16l..16l+15. */
    public static long runs(MemorySegment blocks, long block, int g) {
        return LittleEndian.i64(blocks, block + QS_OFFSET + 8L * g);
    }

    /** Run {@code l} (0-3) of a group's {@link #runs}: a grid index (bits 0-8) and a sign index (bits 9-15). */
    public static int run(long runs, int l) {
        return (int) (runs >>> (16 * l)) & 0xFFFF;
    }

    /** The index into {@link IQTables#IQ2XS_GRID} of a {@link #run}. */
    public static int gridIndex(int run) {
        return run & 511;
    }

    /** The index into {@link IQTables#KSIGNS_IQ2XS} of the signs of a {@link #run}. */
    public static int signIndex(int run) {
        return run >>> 9;
    }

    /** The scale byte of group {@code g} (0-7). */
    public static int scales(MemorySegment blocks, long block, int g) {
        return LittleEndian.u8(blocks, block + SCALES_OFFSET + g);
    }

    /** The 4-bit scale level of half {@code half} (0: weights 0-15, 1: 16-31) of a group with scale byte {@code scales}. */
    public static int scale(int scales, int half) {
        return (scales >>> (4 * half)) & 0xF;
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int scales = scales(blocks, block, g);
            float dLow = IQ2Runs.scale(d, scale(scales, 0));
            float dHigh = IQ2Runs.scale(d, scale(scales, 1));
            long runs = runs(blocks, block, g);
            for (int l = 0; l < 4; l++, out += 8) {
                int run = run(runs, l);
                IQ2Runs.put(dst, out, l < 2 ? dLow : dHigh, IQTables.IQ2XS_GRID, gridIndex(run), IQTables.KSIGNS_IQ2XS[signIndex(run)]);
            }
        }
    }
}
