package glmj.cli;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.Model;
import glmj.engine.Models;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which model to load and how: the options every command that runs a model shares, named like llama.cpp's. */
final class ModelOptions {

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model, or any shard of a split set (default: the built-in tiny GLM-5).")
    Path model;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "Context size in tokens; 0 takes the model's own (default: ${DEFAULT-VALUE}).")
    int contextSize = glmj.engine.ModelOptions.defaults().contextSize();

    /** The cores this JVM may use: the default and the most for {@code -t}. */
    static final int CORES = Runtime.getRuntime().availableProcessors();

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Threads, at most the number of cores (default: the number of cores, ${DEFAULT-VALUE}).")
    int threads = CORES;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "Prompt tokens processed per batch (default: ${DEFAULT-VALUE}).")
    int batchSize = glmj.engine.ModelOptions.defaults().batchSize();

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    EngineChoice engine = EngineChoice.java;

    @Option(names = "--kernels", paramLabel = "NAME", description = "Matmul kernels of the java engine: ${COMPLETION-CANDIDATES} "
            + "(vector: glmj's own, in Java; ggml: llama.cpp's CPU kernels, needs its libraries (scripts/install-llama); "
            + "auto: ggml when its libraries load, else vector; default: ${DEFAULT-VALUE}).")
    KernelChoice kernels = KernelChoice.auto;

    /** Checks {@code -t}: at least 1, at most the cores this machine has. */
    void checkThreads() {
        if (threads < 1 || threads > CORES) {
            throw new UserInputException("-t must be from 1 to " + CORES + " (the cores here), not " + threads);
        }
    }

    /** The model file: the one named, or the built-in tiny GLM-5. */
    Path path() {
        return model != null ? model : BuiltInModel.path();
    }

    /** Loads the model; what is worth telling the user (such as an unusable chat template) goes to {@code notices}. */
    Model load(PrintWriter notices) throws IOException {
        if (contextSize < 0 || batchSize < 1) {
            throw new UserInputException("-c must be 0 or more, -b 1 or more (got -c " + contextSize + ", -b " + batchSize + ")");
        }
        checkThreads();
        return Models.open(path(), new glmj.engine.ModelOptions(contextSize, batchSize, threads, engine, kernels),
                warning -> notices.println("glmj: " + warning));
    }
}
