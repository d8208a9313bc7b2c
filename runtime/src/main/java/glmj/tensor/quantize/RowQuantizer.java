package glmj.tensor.quantize;

import java.lang.foreign.MemorySegment;

/**
 * Quantizes {@code blocks} consecutive blocks of {@code src} from {@code srcOffset} into {@code dst} at
 * {@code dstOffset}, as ggml's {@code ggml_quantize_chunk} does for a type: with {@code importance} (null when absent)
 * the blocks are exactly one row and {@code importance[i]} weighs its column i. Named in the type's row of
 * {@link glmj.tensor.GGMLType}.
 */
@FunctionalInterface
public interface RowQuantizer {
    void quantizeRow(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int blocks, float[] importance);
}
