package glmj.tensor;

import glmj.tensor.blocks.LittleEndian;

import java.lang.foreign.MemorySegment;

/**
 * The scales of a block-scaled weight (FP8 as DeepSeek-V3 and GLM-5-FP8 store it): one f32 scale per block of
 * {@code blockRows x blockColumns} weights, row-major, {@code scaleColumns} per row of blocks; the blocks at the bottom
 * and right edges are partial. A weight's value is its stored value times its block's scale, multiplied in f32. The
 * scales are a view of the mapped file (or of f32 made once from another scale format), like the weights.
 */
public record BlockScales(MemorySegment data, int blockRows, int blockColumns, int scaleColumns) {

    public BlockScales {
        if (blockRows < 1 || blockColumns < 1 || scaleColumns < 1 || data.byteSize() % Float.BYTES != 0
                || data.byteSize() / Float.BYTES % scaleColumns != 0) {
            throw new IllegalArgumentException("scales of " + data.byteSize() + " bytes for blocks of " + blockRows + "x"
                    + blockColumns + " in rows of " + scaleColumns);
        }
    }

    /** The scales of a weight of {@code rows x columns} in blocks of {@code blockRows x blockColumns}, checked to fit. */
    public static BlockScales of(MemorySegment data, int blockRows, int blockColumns, long rows, long columns) {
        long scaleRows = (rows + blockRows - 1) / blockRows;
        long scaleColumns = (columns + blockColumns - 1) / blockColumns;
        if (data.byteSize() != scaleRows * scaleColumns * Float.BYTES) {
            throw new IllegalArgumentException(data.byteSize() + " bytes of scales for " + rows + "x" + columns
                    + " weights in " + blockRows + "x" + blockColumns + " blocks, which need " + scaleRows * scaleColumns + " f32");
        }
        return new BlockScales(data, blockRows, blockColumns, Math.toIntExact(scaleColumns));
    }

    /** Byte offset in {@link #data} of the first scale of the blocks holding weight row {@code row}. */
    public long rowOffset(int row) {
        return (long) (row / blockRows) * scaleColumns * Float.BYTES;
    }

    /** The scale of weight row {@code row}, columns {@code [block * blockColumns, (block + 1) * blockColumns)}. */
    public float scale(int row, int block) {
        return LittleEndian.f32(data, rowOffset(row) + (long) block * Float.BYTES);
    }
}
