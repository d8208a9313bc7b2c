package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ3_S: 256 weights in 64 quads, each a 9-bit index into {@link IQTables#IQ3S_GRID} (4 magnitudes): low 8 bits in
 * qs byte k, bit 8 in qh byte k/8 at bit k%8. Sign byte r negates element j of run r (8 weights) when bit j is set.
 * Scale byte s holds 4-bit scales for groups 2s (low nibble) and 2s+1 (high nibble) of 32 weights:
 * weight = d * (1 + 2*scale) * magnitude * sign.
 */
public final class IQ3_SBlock {
    public static final int WEIGHTS = 256;
    /** fp16 super-block scale. */
    public static final int D_OFFSET = 0;
    /** 64 bytes, the low 8 bits of each quad's grid index. */
    public static final int QS_OFFSET = 2;
    /** 8 bytes, the ninth bits of the grid indices. */
    public static final int QH_OFFSET = 66;
    /** 32 sign bytes, one per run of 8. */
    public static final int SIGNS_OFFSET = 74;
    /** 4 bytes of 4-bit scale pairs. */
    public static final int SCALES_OFFSET = 106;
    public static final int BYTES = 110;

    private IQ3_SBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    /** The low index bytes of the 8 quads of group {@code g} (0-7): quad 8g+k in byte k. */
    public static long lowIndices(MemorySegment blocks, long block, int g) {
        return LittleEndian.i64(blocks, block + QS_OFFSET + 8L * g);
    }

    /** The qh byte of group {@code g}: the ninth bit of quad 8g+k's grid index in bit k. */
    public static int highIndices(MemorySegment blocks, long block, int g) {
        return LittleEndian.u8(blocks, block + QH_OFFSET + g);
    }

    /** The grid index of quad {@code k} (0-7) of a group, from its {@link #lowIndices} and {@link #highIndices}. */
    public static int gridIndex(long lowIndices, int highIndices, int k) {
        return ((int) (lowIndices >>> (8 * k)) & 0xFF) | (((highIndices >>> k) & 1) << 8);
    }

    /** The sign bytes of the four runs of group {@code g}: run 4g+l in byte l, whose bit j negates weight j. */
    public static int signs(MemorySegment blocks, long block, int g) {
        return LittleEndian.i32(blocks, block + SIGNS_OFFSET + 4L * g);
    }

    /** The sign byte of run {@code l} (0-3) from a group's {@link #signs}. */
    public static int runSigns(int signs, int l) {
        return (signs >>> (8 * l)) & 0xFF;
    }

    /** The 4-bit scale of group {@code g} (0-7) of 32 weights. */
    public static int scale(MemorySegment blocks, long block, int g) {
        return (LittleEndian.u8(blocks, block + SCALES_OFFSET + g / 2) >>> (4 * (g % 2))) & 0xF;
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        int out = dstOffset;
        for (int g = 0; g < 8; g++) {
            float dg = d * (1 + 2 * scale(blocks, block, g));
            long lowIndices = lowIndices(blocks, block, g);
            int highIndices = highIndices(blocks, block, g);
            int groupSigns = signs(blocks, block, g);
            for (int l = 0; l < 4; l++) {
                int signs = runSigns(groupSigns, l);
                for (int half = 0; half < 2; half++) {
                    int grid = 4 * gridIndex(lowIndices, highIndices, 2 * l + half);
                    for (int j = 0; j < 4; j++) {
                        int sign = signs >>> (4 * half + j) & 1;
                        dst[out++] = dg * (IQTables.IQ3S_GRID[grid + j] & 0xFF) * (sign != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }
}
