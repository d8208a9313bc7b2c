package glmj.cli;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.PrefetchChoice;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What runs a model, named like llama.cpp's options: the engine, the java engine's kernels and whether it prefetches
 * experts, and the threads.
 */
final class EngineOptions {

    @Mixin
    ThreadsOption threads;

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    EngineChoice engine = EngineChoice.java;

    @Option(names = "--kernels", paramLabel = "NAME", description = "Matmul kernels of the java engine: ${COMPLETION-CANDIDATES} "
            + "(vector: glmj's own, in Java; ggml: llama.cpp's CPU kernels, needs its libraries (scripts/install-llama); "
            + "auto: ggml when its libraries load, else vector; default: ${DEFAULT-VALUE}).")
    KernelChoice kernels = KernelChoice.auto;

    @Option(names = "--prefetch", paramLabel = "WHEN", description = "Ask the OS to read the experts the router picked while "
            + "the shared expert runs, for weights that page from disk: ${COMPLETION-CANDIDATES} (auto: when the model and its "
            + "KV cache do not fit in the memory available; default: ${DEFAULT-VALUE}).")
    PrefetchChoice prefetch = PrefetchChoice.auto;

    /** The library's options for contexts of {@code contextSize}, batches of {@code batchSize}, exact kernels or not. */
    glmj.engine.ModelOptions options(int contextSize, int batchSize, boolean exactKernels) {
        if (contextSize < 0 || batchSize < 1) {
            throw new UserInputException("-c must be 0 or more, -b 1 or more (got -c " + contextSize + ", -b " + batchSize + ")");
        }
        return new glmj.engine.ModelOptions(contextSize, batchSize, threads.checked(), engine, kernels, exactKernels, prefetch);
    }
}
