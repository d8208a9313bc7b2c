package glmj.gguf;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Where a model's tensors come from: their names, types, shapes and mapped data, and the model's metadata. A GGUF file
 * (or split set) is one; a checkpoint in another format can be another, and the models read only this.
 */
public interface TensorSource extends AutoCloseable {

    /** The file that names the model in messages (the first of several). */
    Path path();

    /** The model's key-value metadata, in GGUF's keys. */
    Metadata metadata();

    /** Every tensor. */
    List<TensorInfo> tensors();

    /** The tensor named {@code name}, if there is one. */
    Optional<TensorInfo> findTensor(String name);

    /** The tensor named {@code name}; a {@link GGUFFormatException} naming the file and the tensor when it is missing. */
    default TensorInfo tensor(String name) {
        return findTensor(name).orElseThrow(() -> new GGUFFormatException(path(), "no tensor named " + GGUFFormatException.quote(name)));
    }

    /**
     * Matrix {@code index} along the third dimension of {@code tensor} {@code {cols, rows, count}} (an expert, or a
     * head of attn_k_b / attn_v_b), named {@code name[index]}: in a GGUF file a slice of the tensor's data; a source
     * whose stacked tensors are not contiguous (a checkpoint's experts) gives each its own.
     */
    default TensorInfo slice(TensorInfo tensor, int index) {
        if (tensor.dimensionCount() != 3 || index < 0 || index >= tensor.dim(2) || tensor.scales() != null) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " " + Arrays.toString(tensor.shape())
                    + " has no matrix " + index + " along its third dimension");
        }
        long bytes = tensor.dim(1) * tensor.rowByteSize();
        return new TensorInfo(tensor.name() + "[" + index + "]", tensor.type(), new long[] {tensor.dim(0), tensor.dim(1)},
                tensor.data().asSlice(index * bytes, bytes), tensor.shard(), tensor.fileOffset() + index * bytes);
    }

    /**
     * Makes the data of {@code tensors} readable before they are used. A GGUF file's always are (they are mapped);
     * a source may compute some tensors from others (a checkpoint's {@code kv_b_proj} split per head), and does so here.
     */
    default void load(List<TensorInfo> tensors) {
    }

    /**
     * Gives back the memory of {@code tensors} until they are used again: their mapped pages leave the page cache
     * (see {@link MappedMemory#release}), and computed tensors are dropped until loaded again. A run that goes layer by
     * layer calls it on each layer it is done with, so that a model larger than memory is read from disk once.
     */
    default void release(List<TensorInfo> tensors) {
        for (TensorInfo t : tensors) {
            MappedMemory.release(t.data());
            if (t.scales() != null) {
                MappedMemory.release(t.scales().data());
            }
        }
    }

    /** Releases the mapped data; the tensors' data are unusable afterwards. */
    @Override
    void close();
}
