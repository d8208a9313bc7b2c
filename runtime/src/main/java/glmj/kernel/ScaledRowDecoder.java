package glmj.kernel;

import glmj.tensor.BlockScales;

import java.lang.foreign.MemorySegment;

/**
 * Decodes weight row {@code row} of a block-scaled type, its {@code cols} weights stored at byte {@code offset} of
 * {@code w}, each times its block's scale from {@code scales}, into {@code dst[at..at+cols)}.
 */
@FunctionalInterface
public interface ScaledRowDecoder {
    void decode(MemorySegment w, long offset, BlockScales scales, int row, float[] dst, int at, int cols);
}
