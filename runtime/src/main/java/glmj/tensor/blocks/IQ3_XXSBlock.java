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

    /** The 8 grid indices of group {@code g} (0-7): quad 8g+k in byte k. */
    public static long quads(MemorySegment blocks, long block, int g) {
        return LittleEndian.i64(blocks, block + QS_OFFSET + 8L * g);
    }

    /** Grid index {@code k} (0-7) of a group's {@link #quads}: weights 4k..4k+3 of the group. */
    public static int gridIndex(long quads, int k) {
        return (int) (quads >>> (8 * k)) & 0xFF;
    }

    public static int signsAndScale(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + SCALES_AND_SIGNS_OFFSET + 4L * g);
    }

    /** The 4-bit scale level of a signs-and-scale word, laid out as IQ2_XXS's. */
    public static int scale(int signsAndScale) {
        return IQ2_XXSBlock.scale(signsAndScale);
    }

    /** The 7-bit index into {@link IQTables#KSIGNS_IQ2XS} of the signs of run {@code l} (0-3, weights 8l..8l+7). */
    public static int signIndex(int signsAndScale, int l) {
        return IQ2_XXSBlock.signIndex(signsAndScale, l);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            int signsAndScale = signsAndScale(blocks, block, g);
            long quads = quads(blocks, block, g);
            float dg = d * (0.5f + scale(signsAndScale)) * 0.5f;
            for (int l = 0; l < 4; l++) {
                int signs = IQTables.KSIGNS_IQ2XS[signIndex(signsAndScale, l)];
                for (int half = 0; half < 2; half++) {
                    int grid = 4 * gridIndex(quads, 2 * l + half);
                    for (int j = 0; j < 4; j++) {
                        int sign = signs >>> (4 * half + j) & 1;
                        dst[out++] = dg * (IQTables.IQ3XXS_GRID[grid + j] & 0xFF) * (sign != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }
}
