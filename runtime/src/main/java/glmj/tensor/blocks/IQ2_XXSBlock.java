package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ2_XXS: 256 weights in 8 groups of 32, each group 8 bytes: four grid indices (bytes 0-3) into
 * {@link IQTables#IQ2XXS_GRID} (8 magnitudes each), then a uint32 holding four 7-bit sign indices into
 * {@link IQTables#KSIGNS_IQ2XS} (bits 7l..7l+6) and a 4-bit scale (bits 28-31).
 * Weight = d * (0.5 + scale) / 4 * magnitude * sign.
 */
public final class IQ2_XXSBlock {
    public static final int WEIGHTS = 256;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 0;
    /** 8 groups of 8 bytes. */
    public static final int QS_OFFSET = 2;
    public static final int BYTES = 66;

    private IQ2_XXSBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /** Grid index {@code l} (0-3) of group {@code g}. */
    public static int gridIndex(MemorySegment blocks, long block, int g, int l) {
        return LittleEndian.u8(blocks, block + QS_OFFSET + 8 * g + l);
    }

    /** The signs-and-scale word of group {@code g}. */
    public static int signsAndScale(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + QS_OFFSET + 8 * g + 4);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int signsAndScale = signsAndScale(blocks, block, g);
            float dg = IQ2Runs.scale(d, signsAndScale >>> 28);
            for (int l = 0; l < 4; l++, out += 8) {
                int signs = IQTables.KSIGNS_IQ2XS[(signsAndScale >>> (7 * l)) & 127];
                IQ2Runs.put(dst, out, dg, IQTables.IQ2XXS_GRID, gridIndex(blocks, block, g, l), signs);
            }
        }
    }
}
