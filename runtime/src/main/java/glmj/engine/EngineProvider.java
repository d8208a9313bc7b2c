package glmj.engine;

import glmj.gguf.GGUFFile;

/** An engine found at run time ({@link java.util.ServiceLoader}), such as llama.cpp's in the native module. */
public interface EngineProvider {

    /** The engine's name, as {@link EngineChoice} names it. */
    String name();

    /**
     * Loads {@code file}'s model with contexts of {@code contextSize} tokens (0: the model's own), batches of
     * {@code batchSize} and {@code threads} threads, every matmul rounding as ggml's plain kernels if
     * {@code exactKernels} ({@link ModelOptions}); the engine may read the file again itself, and does not keep it.
     *
     * @throws BackendUnavailableException when the engine cannot run here
     */
    Engine open(GGUFFile file, int contextSize, int batchSize, int threads, boolean exactKernels);
}
