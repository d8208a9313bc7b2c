package glmj.llamacpp;

import glmj.engine.Engine;
import glmj.engine.EngineChoice;
import glmj.engine.EngineProvider;
import glmj.gguf.GGUFFile;

/** llama.cpp's engine ({@link LlamaEngine}) for the runtime, which finds it through {@link java.util.ServiceLoader}. */
public final class LlamaEngineProvider implements EngineProvider {
    @Override
    public String name() {
        return EngineChoice.llama.name();
    }

    @Override
    public Engine open(GGUFFile file, int contextSize, int batchSize, int threads, boolean exactKernels) {
        return new LlamaEngine(file.shards(), contextSize, batchSize, threads, exactKernels);
    }
}
