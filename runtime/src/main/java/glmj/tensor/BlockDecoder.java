package glmj.tensor;

import java.lang.foreign.MemorySegment;

/** Decodes the one block at {@code blockOffset} into {@code blockSize} floats at {@code dst[dstOffset]}. */
@FunctionalInterface
public interface BlockDecoder {
    void dequantize(MemorySegment blocks, long blockOffset, float[] dst, int dstOffset);
}
