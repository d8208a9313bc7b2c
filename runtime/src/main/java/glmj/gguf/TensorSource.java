package glmj.gguf;

import java.nio.file.Path;
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

    /** Releases the mapped data; the tensors' data are unusable afterwards. */
    @Override
    void close();
}
