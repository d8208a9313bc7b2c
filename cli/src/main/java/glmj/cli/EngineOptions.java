package glmj.cli;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import picocli.CommandLine.Option;

/** What runs a model, named like llama.cpp's options: the engine, the java engine's kernels, and the threads. */
final class EngineOptions {

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Threads (default: the number of cores, ${DEFAULT-VALUE}).")
    int threads = glmj.engine.ModelOptions.defaults().threads();

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    EngineChoice engine = EngineChoice.java;

    @Option(names = "--kernels", paramLabel = "NAME", description = "Matmul kernels of the java engine: ${COMPLETION-CANDIDATES} "
            + "(vector: glmj's own, in Java; ggml: llama.cpp's CPU kernels, needs its libraries (scripts/install-llama); "
            + "auto: ggml when its libraries load, else vector; default: ${DEFAULT-VALUE}).")
    KernelChoice kernels = KernelChoice.auto;

    /** The library's options for contexts of {@code contextSize}, batches of {@code batchSize}, exact kernels or not. */
    glmj.engine.ModelOptions options(int contextSize, int batchSize, boolean exactKernels) {
        if (contextSize < 0 || threads < 1 || batchSize < 1) {
            throw new UserInputException("-c must be 0 or more, -t and -b 1 or more (got -c " + contextSize + ", -t " + threads + ", -b " + batchSize + ")");
        }
        return new glmj.engine.ModelOptions(contextSize, batchSize, threads, engine, kernels, exactKernels);
    }
}
