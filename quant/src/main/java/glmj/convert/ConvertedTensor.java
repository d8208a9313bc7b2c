package glmj.convert;

import glmj.hf.CheckpointTensor;

import java.util.List;

/**
 * A tensor of the glm-dsa GGUF as llama.cpp's converter makes it from checkpoint weights: its GGUF name and shape
 * (ggml order, {@code shape()[0]} the row length) and its f32 values, read row range by row range straight from the
 * mapped checkpoint, exactly (FP8 times its scale in f32, as the converter's dequantization). Reading allocates
 * nothing; any number of threads may read different rows at once.
 */
public interface ConvertedTensor {
    String name();

    /** The GGUF shape, innermost dimension first. */
    long[] shape();

    /** The checkpoint weights it is made of. */
    List<CheckpointTensor> sources();

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

    /** Bytes of the checkpoint it reads: its sources' values and scales. */
    default long sourceBytes() {
        return sources().stream().mapToLong(CheckpointTensor::storedBytes).sum();
    }

    /** Reads rows {@code [firstRow, firstRow + rows)} into {@code dst[at..at + rows * rowLength())}. */
    void readRows(long firstRow, int rows, float[] dst, int at);
}
