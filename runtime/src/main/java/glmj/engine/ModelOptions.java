package glmj.engine;

/**
 * How to load a model: contexts of {@code contextSize} tokens (0: the model's own), prompts in batches of
 * {@code batchSize}, {@code threads} threads, the engine, the java engine's kernels and whether it prefetches experts.
 * With {@code exactKernels} every matmul rounds as ggml's own CPU kernels do (its {@code vec_dot} and {@code mul_mat},
 * llama.cpp's plain kernels), instead of multiplying a prompt's quantized weights as glmj's decoded panels of floats,
 * which are faster but round otherwise: quality measurements want that, chat and benchmarks the speed. The llama engine
 * then loads its weights plain too, not repacked for its prompt kernels as llama.cpp does by default.
 */
public record ModelOptions(int contextSize, int batchSize, int threads, EngineChoice engine, KernelChoice kernels,
                           boolean exactKernels, PrefetchChoice prefetch) {

    public ModelOptions {
        if (contextSize < 0 || threads < 1 || batchSize < 1) {
            throw new IllegalArgumentException("the context size must be 0 or more, threads and batch size 1 or more (got "
                    + contextSize + ", " + threads + ", " + batchSize + ")");
        }
    }

    /**
     * glmj's defaults, llama.cpp's where it has one: a 4096-token context, batches of 512, every core, the java engine
     * on auto kernels with the faster panels, experts prefetched when the weights do not stay in memory.
     */
    public static ModelOptions defaults() {
        return new ModelOptions(4096, 512, Runtime.getRuntime().availableProcessors(), EngineChoice.java, KernelChoice.auto,
                false, PrefetchChoice.auto);
    }
}
