package glmj.kernel;

import glmj.gguf.TensorInfo;
import glmj.tensor.BlockScales;
import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix as the kernels see it: {@code rows} rows of {@code cols} weights of {@code type}, stored row after row
 * in {@code data} (a view of the mapped file, never copied), and for a block-scaled type ({@link GGMLType#isBlockScaled})
 * the {@code scales} of its blocks, else null. Row {@code r} computes output {@code r} of a matmul.
 */
public record Weight(String name, MemorySegment data, GGMLType type, int rows, int cols, BlockScales scales) {

    public Weight {
        long bytes = (long) rows * type.byteSize(cols);
        if (data.byteSize() < bytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + rows + " rows of " + cols + " " + type.ggmlName
                    + " need " + bytes + " bytes but its data has " + data.byteSize());
        }
        if ((scales != null) != type.isBlockScaled()) {
            throw new IllegalArgumentException("tensor " + name + " is " + type.ggmlName + (scales == null
                    ? ", which needs its block scales" : ", which has no block scales"));
        }
    }

    /** A weight of a type without block scales. */
    public Weight(String name, MemorySegment data, GGMLType type, int rows, int cols) {
        this(name, data, type, rows, cols, null);
    }

    /** The whole tensor as one matrix: rows are every dimension but the first. */
    public static Weight of(TensorInfo tensor) {
        return new Weight(tensor.name(), tensor.data(), tensor.type(), Math.toIntExact(tensor.rowCount()),
                Math.toIntExact(tensor.rowLength()), tensor.scales());
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }
}
