package glmj.engine;

import glmj.gguf.TensorSource;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model format besides GGUF found at run time ({@link java.util.ServiceLoader}), such as Hugging Face checkpoint
 * directories, which the quant module reads: it opens the model as a {@link TensorSource} with GGUF's metadata keys
 * (tokenizer included) and glm-dsa's tensor names, so the engine runs it as it runs a GGUF file.
 */
public interface SourceProvider {

    /** Whether {@code path} is a model of this format. */
    boolean accepts(Path path);

    /** Opens the model at {@code path}; errors name the file and what is wrong in one line. */
    TensorSource open(Path path) throws IOException;
}
