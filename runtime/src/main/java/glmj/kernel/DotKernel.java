package glmj.kernel;

import java.lang.foreign.MemorySegment;

/**
 * The dot product of one weight row, read in its stored form straight from the mapped file, with one row of
 * {@link Activations}, computed as ggml's {@code vec_dot} for the weight type computes it: 8-bit products summed
 * exactly as integers within each block, then scaled in float. Each weight type names its own in its row of
 * {@link glmj.tensor.GGMLType}.
 */
@FunctionalInterface
public interface DotKernel {

    /** The row of {@code cols} weights at byte {@code offset} of {@code w} dotted with activation row {@code row}. */
    float dot(MemorySegment w, long offset, Activations a, int row);
}
