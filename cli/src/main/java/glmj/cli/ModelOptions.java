package glmj.cli;

import glmj.chat.ChatFormat;
import glmj.generate.LanguageModel;
import glmj.gguf.GGUFFile;
import glmj.gguf.Metadata;
import glmj.kernel.Kernels;
import glmj.kernel.VectorKernels;
import glmj.llamacpp.GgmlKernels;
import glmj.llamacpp.LlamaEngine;
import glmj.llamacpp.LlamaLibraryException;
import glmj.model.GlmDsaEngine;
import glmj.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which model to load and how: the options every command that runs a model shares, named like llama.cpp's. */
final class ModelOptions {

    /** The engines a model can run on. */
    enum Engine {
        /** glmj's own glm-dsa forward pass in Java. */
        java,
        /** llama.cpp v0.5.0 through glmj's bindings (Metal on Macs, the CPU elsewhere). */
        llama
    }

    /** What the java engine's matmuls run on. */
    enum KernelBackend {
        /** ggml's kernels where llama.cpp's libraries load, else glmj's own. */
        auto,
        /** glmj's Panama Vector API kernels. */
        vector,
        /** ggml's CPU kernels from llama.cpp's libraries, through glmj's bindings. */
        ggml
    }

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model, or any shard of a split set (default: the built-in tiny GLM-5).")
    Path model;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "Context size in tokens; 0 takes the model's own (default: ${DEFAULT-VALUE}).")
    int contextSize = 4096;

    /** The cores this JVM may use: the default and the most for {@code -t}. */
    static final int CORES = Runtime.getRuntime().availableProcessors();

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Threads, at most the number of cores (default: the number of cores, ${DEFAULT-VALUE}).")
    int threads = CORES;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "Prompt tokens processed per batch (default: ${DEFAULT-VALUE}).")
    int batchSize = 512;

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Engine engine = Engine.java;

    @Option(names = "--kernels", paramLabel = "NAME", description = "Matmul kernels of the java engine: ${COMPLETION-CANDIDATES} "
            + "(vector: glmj's own, in Java; ggml: llama.cpp's CPU kernels, needs its libraries (scripts/install-llama); "
            + "auto: ggml when its libraries load, else vector; default: ${DEFAULT-VALUE}).")
    KernelBackend kernels = KernelBackend.auto;

    /**
     * A loaded model with its tokenizer and chat format, closed together; {@code engine} names the engine and, for the
     * java engine, its kernels ("java/ggml").
     */
    record Loaded(LanguageModel model, Tokenizer tokenizer, ChatFormat chatFormat, Path path, String engine) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /**
     * The java engine's kernels as {@code --kernels} asks, on {@link #threads} threads; when {@code auto} cannot load
     * ggml's, one line to {@code notices} says that glmj's own run instead, and why.
     */
    private Kernels kernels(PrintWriter notices) {
        return switch (kernels) {
            case vector -> new VectorKernels(threads);
            case ggml -> new GgmlKernels(threads);
            case auto -> {
                try {
                    yield new GgmlKernels(threads);
                } catch (LlamaLibraryException | LinkageError e) {
                    notices.println("glmj: running on glmj's own kernels (vector), slower than ggml's, which did not load: "
                            + (e.getMessage() != null ? e.getMessage() : e));
                    yield new VectorKernels(threads);
                }
            }
        };
    }

    /** Checks {@code -t}: at least 1, at most the cores this machine has. */
    void checkThreads() {
        if (threads < 1 || threads > CORES) {
            throw new UserInputException("-t must be from 1 to " + CORES + " (the cores here), not " + threads);
        }
    }

    /** The model file: the one named, or the built-in tiny GLM-5. */
    Path path() {
        return model != null ? model : Models.embeddedDefault();
    }

    /** Loads the model; what is worth telling the user (such as an unusable chat template) goes to {@code notices}. */
    Loaded load(PrintWriter notices) throws IOException {
        if (contextSize < 0 || batchSize < 1) {
            throw new UserInputException("-c must be 0 or more, -b 1 or more (got -c " + contextSize + ", -b " + batchSize + ")");
        }
        checkThreads();
        Path path = path();
        GGUFFile file = GGUFFile.open(path);
        boolean engineOwnsFile = false;
        try {
            Metadata metadata = file.metadata();
            String contextKey = metadata.getString("general.architecture", "") + ".context_length";
            if (metadata.has(contextKey) && contextSize > metadata.getInt(contextKey)) {
                throw new UserInputException("-c " + contextSize + " is more than the model's context of " + metadata.getInt(contextKey) + " tokens");
            }
            Tokenizer tokenizer = Tokenizer.fromGGUF(metadata);
            ChatFormat chatFormat = ChatFormat.fromMetadata(metadata, warning -> notices.println("glmj: " + warning));
            Kernels javaKernels = engine == Engine.java ? kernels(notices) : null;
            LanguageModel languageModel = switch (engine) {
                case java -> {
                    GlmDsaEngine glmDsa = GlmDsaEngine.of(file, contextSize, batchSize, javaKernels);
                    engineOwnsFile = true;
                    yield glmDsa;
                }
                case llama -> new LlamaEngine(file.shards(), contextSize, batchSize, threads);
            };
            String name = javaKernels == null ? engine.name()
                    : engine.name() + "/" + (javaKernels instanceof GgmlKernels ? KernelBackend.ggml : KernelBackend.vector);
            return new Loaded(languageModel, tokenizer, chatFormat, path, name);
        } finally {
            if (!engineOwnsFile) {
                file.close();
            }
        }
    }
}
