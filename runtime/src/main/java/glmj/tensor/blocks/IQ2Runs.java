package glmj.tensor.blocks;

/**
 * What the IQ2 formats (IQ2_XXS, IQ2_XS, IQ2_S) share: a 4-bit scale level s scales its weights by d * (0.5 + s) / 4,
 * and each run of 8 weights is 8 grid magnitudes with a sign byte (bit j negates weight j).
 */
final class IQ2Runs {
    private IQ2Runs() {
    }

    /** The scale of a group with 4-bit level {@code level} in a super-block of scale {@code d}. */
    static float scale(float d, int level) {
        return d * (0.5f + level) * 0.25f;
    }

    /** Writes the 8 weights of grid entry {@code index} of {@code grid}, scaled and signed, to {@code dst[out..out+7]}. */
    static void put(float[] dst, int out, float scale, byte[] grid, int index, int signs) {
        int base = 8 * index;
        for (int j = 0; j < 8; j++) {
            dst[out + j] = scale * (grid[base + j] & 0xFF) * ((signs >>> j & 1) != 0 ? -1f : 1f);
        }
    }
}
