package glmj.cli;

import glmj.gguf.GGUFFile;
import glmj.kernel.Kernels;
import glmj.kernel.VectorKernels;
import glmj.llamacpp.GgmlKernels;
import glmj.llamacpp.LlamaLibrary;
import glmj.llamacpp.LlamaLibraryException;
import glmj.quality.ChunkLogits;
import glmj.quality.JavaChunkLogits;
import glmj.quality.LlamaChunkLogits;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How {@code glmj quality} runs models over a corpus's chunks: the engine, its kernels, and the batching, named as
 * llama-perplexity names them ({@code -b} over {@code -c} chunks share a batch on the llama engine, as there).
 */
final class QualityEngineOptions {

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    ModelOptions.Engine engine = ModelOptions.Engine.java;

    @Option(names = "--kernels", paramLabel = "NAME", description = "Matmul kernels of the java engine: ${COMPLETION-CANDIDATES} "
            + "(default: ${DEFAULT-VALUE}: ggml when llama.cpp's libraries load, else vector).")
    ModelOptions.KernelBackend kernels = ModelOptions.KernelBackend.auto;

    @Option(names = "--panels", description = "On ggml kernels, multiply K-quant prompts with glmj's decoded panels, as glmj's "
            + "other commands do: faster, but rounded otherwise than llama.cpp (see README, quality). By default every "
            + "matmul is ggml's own, as llama.cpp computes it.")
    boolean panels;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "Tokens per batch; on the llama engine N/c chunks "
            + "share a batch, as in llama-perplexity, whose logits depend on it (default: ${DEFAULT-VALUE}).")
    int batchSize = 2048;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Threads (default: the number of cores, ${DEFAULT-VALUE}).")
    int threads = Runtime.getRuntime().availableProcessors();

    /** Opens {@code model} for chunks of {@code chunkLength} tokens. */
    ChunkLogits open(Path model, int chunkLength) throws IOException {
        if (batchSize < 1 || threads < 1) {
            throw new UserInputException("-b and -t must be 1 or more (got -b " + batchSize + ", -t " + threads + ")");
        }
        GGUFFile file = GGUFFile.open(model);
        try {
            if (engine == ModelOptions.Engine.llama) {
                try (file) {
                    return new LlamaChunkLogits(file.shards(), chunkLength, batchSize, threads, false);
                }
            }
            return new JavaChunkLogits(file, kernels(), chunkLength, batchSize);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The engine and, for the java engine, its kernels, as {@code glmj bench} names them ("java/ggml"). */
    String describe() {
        if (engine == ModelOptions.Engine.llama) {
            return engine.name();
        }
        ModelOptions.KernelBackend backend = backend();
        return engine.name() + "/" + backend + (backend == ModelOptions.KernelBackend.ggml && panels ? "+panels" : "");
    }

    /** {@code --kernels}, with auto resolved: ggml where llama.cpp's libraries load. */
    private ModelOptions.KernelBackend backend() {
        if (kernels != ModelOptions.KernelBackend.auto) {
            return kernels;
        }
        try {
            LlamaLibrary.load();
            return ModelOptions.KernelBackend.ggml;
        } catch (LlamaLibraryException | LinkageError e) {
            return ModelOptions.KernelBackend.vector; // no usable llama.cpp libraries here: glmj's own kernels
        }
    }

    private Kernels kernels() {
        return backend() == ModelOptions.KernelBackend.ggml ? new GgmlKernels(threads, panels) : new VectorKernels(threads);
    }
}
