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

    /** The 8 bytes of group {@code g} (0-7), little-endian: grid indices in bytes 0-3, the signs-and-scale word in 4-7. */
    public static long group(MemorySegment blocks, long block, int g) {
        return LittleEndian.i64(blocks, block + QS_OFFSET + 8L * g);
    }

    /** Grid index {@code l} (0-3) of a {@link #group}: the index of its run of weights 8l..8l+7. */
    public static int gridIndex(long group, int l) {
        return (int) (group >>> (8 * l)) & 0xFF;
    }

    /** The signs-and-scale word of a {@link #group}. */
    public static int signsAndScale(long group) {
        return (int) (group >>> 32);
    }

    /** The 4-bit scale level of a signs-and-scale word (IQ3_XXS's word has the same layout). */
    public static int scale(int signsAndScale) {
        return signsAndScale >>> 28;
    }

    /** The 7-bit index into {@link IQTables#KSIGNS_IQ2XS} of the signs of run {@code l} (0-3) of a signs-and-scale word. */
    public static int signIndex(int signsAndScale, int l) {
        return (signsAndScale >>> (7 * l)) & 127;
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            long group = group(blocks, block, g);
            int signsAndScale = signsAndScale(group);
            float dg = IQ2Runs.scale(d, scale(signsAndScale));
            for (int l = 0; l < 4; l++, out += 8) {
                int signs = IQTables.KSIGNS_IQ2XS[signIndex(signsAndScale, l)];
                IQ2Runs.put(dst, out, dg, IQTables.IQ2XXS_GRID, gridIndex(group, l), signs);
            }
        }
    }
}
