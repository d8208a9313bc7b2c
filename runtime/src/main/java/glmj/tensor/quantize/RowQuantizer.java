package glmj.tensor.quantize;

import java.lang.foreign.MemorySegment;

/**
 * Quantizes {@code blocks} consecutive blocks of {@code src} from {@code srcOffset} into {@code dst} at
 * {@code dstOffset}: ggml's {@code from_float_ref} of a type, named in its row of {@link glmj.tensor.GGMLType}.
 */
@FunctionalInterface
public interface RowQuantizer {
    void quantizeRow(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int blocks);
}
