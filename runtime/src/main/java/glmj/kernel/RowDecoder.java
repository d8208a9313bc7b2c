package glmj.kernel;

import java.lang.foreign.MemorySegment;

/** Decodes {@code cols} weights stored at byte {@code offset} of {@code w} into {@code dst[at..at+cols)}. */
@FunctionalInterface
public interface RowDecoder {
    void decode(MemorySegment w, long offset, float[] dst, int at, int cols);
}
