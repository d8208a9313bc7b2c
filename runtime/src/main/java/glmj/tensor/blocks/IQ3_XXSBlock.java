package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ3_XXS: 256 weights in 64 quads, each a byte index into {@link IQTables#IQ3XXS_GRID} (4 magnitudes). Group g
 * of 32 weights has a uint32 holding four 7-bit sign indices into {@link IQTables#KSIGNS_IQ2XS} (one per 8
 * weights, bits 7l..7l+6) and a 4-bit scale (bits 28-31): weight = d * (0.5 + scale) / 2 * magnitude * sign.
 */
public final class IQ3_XXSBlock {
    public static final int WEIGHTS = 256;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 0;
    /** 64 grid indices, one per 4 weights. */
    public static final int QS_OFFSET = 2;
    /** 8 little-endian uint32 of signs and scale, one per group of 32. */
    public static final int SCALES_AND_SIGNS_OFFSET = 66;
    public static final int BYTES = 98;

    private IQ3_XXSBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static int gridIndex(MemorySegment blocks, long block, int quad) {
        return LittleEndian.u8(blocks, block + QS_OFFSET + quad);
    }

    public static int signsAndScale(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + SCALES_AND_SIGNS_OFFSET + 4L * g);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int signsAndScale = signsAndScale(blocks, block, g);
            float dg = d * (0.5f + (signsAndScale >>> 28)) * 0.5f;
            for (int l = 0; l < 4; l++) {
                int signs = IQTables.KSIGNS_IQ2XS[(signsAndScale >>> (7 * l)) & 127];
                for (int half = 0; half < 2; half++) {
                    int grid = 4 * gridIndex(blocks, block, 8 * g + 2 * l + half);
                    for (int j = 0; j < 4; j++) {
                        int sign = signs >>> (4 * half + j) & 1;
                        dst[out++] = dg * (IQTables.IQ3XXS_GRID[grid + j] & 0xFF) * (sign != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }
}
