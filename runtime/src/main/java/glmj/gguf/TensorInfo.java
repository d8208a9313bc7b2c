package glmj.gguf;

import glmj.tensor.BlockScales;
import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a GGUF file, or of another {@link TensorSource}. {@code shape} is in ggml order: {@code shape[0]} (ne[0])
 * is the contiguous row length. {@code data} is a read-only view of the mapped file {@code shard}, starting at byte
 * {@code fileOffset} of that file; it is valid until the source is closed. A block-scaled type
 * ({@link GGMLType#isBlockScaled}) has its {@code scales}; every other tensor has none.
 */
public record TensorInfo(String name, GGMLType type, long[] shape, MemorySegment data, Path shard, long fileOffset,
                         BlockScales scales) {

    public TensorInfo {
        shape = shape.clone();
    }

    /** A tensor of a type without block scales, as GGUF files hold them. */
    public TensorInfo(String name, GGMLType type, long[] shape, MemorySegment data, Path shard, long fileOffset) {
        this(name, type, shape, data, shard, fileOffset, null);
    }

    /** A copy of the shape, ggml order. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int dimensionCount() {
        return shape.length;
    }

    /** Dimension {@code i} in ggml order, 1 beyond the stored dimensions (as ggml pads to 4). */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public long elementCount() {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        return count;
    }

    public long byteSize() {
        return type.byteSize(elementCount());
    }

    /** Weights per row: {@code shape[0]}. */
    public long rowLength() {
        return shape[0];
    }

    /** Rows: the product of every dimension but the first. */
    public long rowCount() {
        long count = 1;
        for (int i = 1; i < shape.length; i++) {
            count *= shape[i];
        }
        return count;
    }

    /** Bytes of one row. */
    public long rowByteSize() {
        return type.byteSize(shape[0]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && data.equals(t.data) && shard.equals(t.shard) && fileOffset == t.fileOffset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type.ggmlName + " " + Arrays.toString(shape) + " at " + shard.getFileName() + ":" + fileOffset;
    }
}
