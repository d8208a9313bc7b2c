package glmj.quant;

import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;

/**
 * A tensor of a model being quantized: its GGUF name and shape (ggml order, {@code shape()[0]} the row length) and its
 * values as f32 rows, read range by range from the mapped source (a checkpoint's FP8 or BF16 weights, a GGUF's blocks
 * dequantized as ggml dequantizes them). Any number of threads may read different rows at once.
 */
public interface SourceTensor {
    String name();

    /** The GGUF shape, innermost dimension first. */
    long[] shape();

    /** The ggml type the source stores it in, or null when it is not stored in one (a checkpoint's weights). */
    GGMLType storedType();

    /** The stored bytes when {@link #storedType} is not null, copied as they are when the type stays the same. */
    MemorySegment storedData();

    /** The type it is written as when it is not quantized (norms, biases, the router). */
    GGMLType unquantizedType();

    /** Reads rows {@code [firstRow, firstRow + rows)} into {@code dst[at..at + rows * rowLength())}. */
    void readRows(long firstRow, int rows, float[] dst, int at);

    /** Values per row. */
    default int rowLength() {
        return Math.toIntExact(shape()[0]);
    }

    default long rowCount() {
        long rows = 1;
        long[] shape = shape();
        for (int i = 1; i < shape.length; i++) {
            rows *= shape[i];
        }
        return rows;
    }

    default long elementCount() {
        return rowCount() * shape()[0];
    }

    /** Matrices along the third dimension (experts, heads); 1 for a matrix or vector. */
    default int matrixCount() {
        long[] shape = shape();
        return shape.length > 2 ? Math.toIntExact(shape[2]) : 1;
    }
}
