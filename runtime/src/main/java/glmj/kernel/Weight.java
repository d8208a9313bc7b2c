package glmj.kernel;

import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix as the kernels see it: {@code rows} rows of {@code cols} weights of {@code type}, stored row after row
 * in {@code data} (a view of the mapped file, never copied). Row {@code r} computes output {@code r} of a matmul.
 */
public record Weight(String name, MemorySegment data, GGMLType type, int rows, int cols) {

    public Weight {
        long bytes = (long) rows * type.byteSize(cols);
        if (data.byteSize() < bytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + rows + " rows of " + cols + " " + type.ggmlName
                    + " need " + bytes + " bytes but its data has " + data.byteSize());
        }
    }

    /** The whole tensor as one matrix: rows are every dimension but the first. */
    public static Weight of(TensorInfo tensor) {
        return new Weight(tensor.name(), tensor.data(), tensor.type(), Math.toIntExact(tensor.rowCount()),
                Math.toIntExact(tensor.rowLength()));
    }

    /** Matrix {@code index} of a 3-d tensor {@code {cols, rows, count}} (an expert, or a head of attn_k_b / attn_v_b). */
    public static Weight slice(TensorInfo tensor, int index) {
        if (tensor.dimensionCount() != 3 || index < 0 || index >= tensor.dim(2)) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " " + java.util.Arrays.toString(tensor.shape())
                    + " has no matrix " + index + " along its third dimension");
        }
        int rows = Math.toIntExact(tensor.dim(1));
        long bytes = rows * tensor.rowByteSize();
        return new Weight(tensor.name() + "[" + index + "]", tensor.data().asSlice(index * bytes, bytes), tensor.type(), rows,
                Math.toIntExact(tensor.rowLength()));
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }
}
