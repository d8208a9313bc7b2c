package glmj.engine;

import glmj.chat.ChatFormat;
import glmj.gguf.ActiveWeights;
import glmj.gguf.GGUFFile;
import glmj.gguf.Metadata;
import glmj.gguf.Paging;
import glmj.gguf.TensorInfo;
import glmj.gguf.TensorSource;
import glmj.kernel.Kernels;
import glmj.kernel.VectorKernels;
import glmj.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Opens models: the GGUF file (or a model of another format a {@link SourceProvider} reads, such as a Hugging Face
 * checkpoint directory), its architecture from {@code general.architecture} ({@link Architectures}), every tensor
 * checked against the shape and type it must have, the tokenizer and chat format, and the engine and kernels the
 * options name. Engines, kernel backends and formats outside this module (llama.cpp's, ggml's, checkpoints) are found
 * through {@link ServiceLoader} ({@link EngineProvider}, {@link KernelsProvider}, {@link SourceProvider}).
 */
public final class Models {
    private Models() {
    }

    /**
     * Opens {@code path} (a GGUF file, any shard of a split set, or a directory a {@link SourceProvider} reads) as
     * {@code options} say; what is worth telling the user (such as an unusable chat template, or weights that will not
     * stay in memory: see {@link MemoryPlan}) goes to {@code notices}.
     *
     * @throws UnsupportedModelException for another architecture or a context larger than the model's
     * @throws glmj.generate.CacheTooLargeException when the KV cache alone does not fit in the available memory
     * @throws glmj.gguf.GGUFFormatException for a malformed file, or a tensor missing or of the wrong shape or type
     * @throws BackendUnavailableException when the engine or kernels asked for cannot run here
     */
    public static Model open(Path path, ModelOptions options, Consumer<String> notices) throws IOException {
        return open(path, options, notices, MachineMemory.now(), plan -> { });
    }

    /**
     * As {@link #open(Path, ModelOptions, Consumer)}, on a machine with {@code machine}'s memory, giving
     * {@code planned} what the run needs in memory once the model is checked and before any weight is read (the java
     * engine's are read in after, another engine reads them as it opens).
     */
    public static Model open(Path path, ModelOptions options, Consumer<String> notices, MachineMemory machine,
                             Consumer<MemoryPlan> planned) throws IOException {
        TensorSource file = source(path);
        boolean engineOwnsFile = false;
        try {
            Metadata metadata = file.metadata();
            Architectures.Architecture architecture = Architectures.of(file);
            MemoryPlan memory = memoryPlan(file, architecture, options.contextSize(), machine);
            memory.checkCache();
            Tokenizer tokenizer = Tokenizer.fromGGUF(metadata);
            ChatFormat chatFormat = ChatFormat.fromMetadata(metadata, notices);
            Engine engine;
            String name;
            PageIn pageIn = null;
            if (options.engine() == EngineChoice.java) {
                Kernels kernels = kernels(options.kernels(), options.threads(), options.exactKernels(), notices);
                name = "java/" + (kernels instanceof VectorKernels ? KernelChoice.vector : KernelChoice.ggml)
                        + (options.exactKernels() ? "/exact" : "");
                boolean prefetch = switch (options.prefetch()) {
                    case auto -> !memory.weightsStayResident();
                    case on -> true;
                    case off -> false;
                };
                engine = architecture.open(file, options.contextSize(), options.batchSize(), kernels, prefetch ? Paging::willNeed : null);
                engineOwnsFile = true;
                announce(memory, planned, notices);
                // a mapped file's pages are read in ahead; a checkpoint's computed tensors are made when loaded
                if (file instanceof GGUFFile) {
                    pageIn = PageIn.start(ActiveWeights.readWhole(file, memory.weightsStayResident()));
                }
            } else if (file instanceof GGUFFile gguf) {
                announce(memory, planned, notices);
                engine = provider(EngineProvider.class, options.engine().name())
                        .open(gguf, options.contextSize(), options.batchSize(), options.threads(), options.exactKernels());
                name = options.engine().name();
            } else {
                throw new UnsupportedModelException(path, "the " + options.engine() + " engine runs GGUF files; run this"
                        + " model on the java engine, or convert it to GGUF first");
            }
            return new Model(engine, tokenizer, chatFormat, file.path(), name, pageIn);
        } finally {
            if (!engineOwnsFile) {
                file.close();
            }
        }
    }

    /** Gives {@code planned} the plan, and {@code notices} the line saying the weights will not stay in memory if they will not. */
    private static void announce(MemoryPlan memory, Consumer<MemoryPlan> planned, Consumer<String> notices) {
        planned.accept(memory);
        if (memory.residencyWarning() != null) {
            notices.accept(memory.residencyWarning());
        }
    }

    /**
     * What a run of the model in {@code file} with a context of {@code contextSize} tokens (0: the model's own) needs in
     * memory, on a machine with {@code machine}'s.
     *
     * @throws UnsupportedModelException for another architecture or a context larger than the model's
     */
    public static MemoryPlan memoryPlan(TensorSource file, int contextSize, MachineMemory machine) throws IOException {
        return memoryPlan(file, Architectures.of(file), contextSize, machine);
    }

    private static MemoryPlan memoryPlan(TensorSource file, Architectures.Architecture architecture, int contextSize,
                                         MachineMemory machine) throws IOException {
        Metadata metadata = file.metadata();
        String contextKey = metadata.getString("general.architecture") + ".context_length";
        if (metadata.has(contextKey) && contextSize > metadata.getInt(contextKey)) {
            throw new UnsupportedModelException(file.path(), "a context of " + contextSize + " tokens is more than the model's "
                    + metadata.getInt(contextKey));
        }
        int context = contextSize > 0 ? contextSize : metadata.getInt(contextKey);
        return new MemoryPlan(file.path(), storedBytes(file), ActiveWeights.of(file), context,
                architecture.cacheBytes(file, context), machine);
    }

    /** The bytes of a GGUF file's shards; of another source, its tensors' data (and their scales). */
    private static long storedBytes(TensorSource file) throws IOException {
        long bytes = 0;
        if (file instanceof GGUFFile gguf) {
            for (Path shard : gguf.shards()) {
                bytes += Files.size(shard);
            }
            return bytes;
        }
        for (TensorInfo tensor : file.tensors()) {
            bytes += tensor.byteSize() + (tensor.scales() != null ? tensor.scales().data().byteSize() : 0);
        }
        return bytes;
    }

    /** The tensors at {@code path}: a directory of another format a {@link SourceProvider} reads, else a GGUF file. */
    public static TensorSource source(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            for (SourceProvider provider : ServiceLoader.load(SourceProvider.class)) {
                if (provider.accepts(path)) {
                    return provider.open(path);
                }
            }
            throw new UnsupportedModelException(path, "is a directory, not a GGUF file nor a Hugging Face checkpoint"
                    + " (config.json and .safetensors files)");
        }
        return GGUFFile.open(path);
    }

    /**
     * The kernels {@code choice} names on {@code threads} threads, rounding as ggml's own if {@code exact} (see
     * {@link ModelOptions#exactKernels}): {@code auto} takes ggml's where they run, else glmj's, saying so in one line
     * to {@code notices}.
     */
    public static Kernels kernels(KernelChoice choice, int threads, boolean exact, Consumer<String> notices) {
        return switch (choice) {
            case vector -> new VectorKernels(threads, !exact);
            case ggml -> provider(KernelsProvider.class, choice.name()).create(threads, exact);
            case auto -> {
                try {
                    yield provider(KernelsProvider.class, KernelChoice.ggml.name()).create(threads, exact);
                } catch (BackendUnavailableException | LinkageError e) {
                    notices.accept("running on glmj's own kernels (vector), slower than ggml's, which did not load: "
                            + (e.getMessage() != null ? e.getMessage() : e));
                    yield new VectorKernels(threads, !exact);
                }
            }
        };
    }

    private static <P> P provider(Class<P> kind, String name) {
        for (P provider : ServiceLoader.load(kind)) {
            String provided = provider instanceof EngineProvider e ? e.name() : ((KernelsProvider) provider).name();
            if (provided.equals(name)) {
                return provider;
            }
        }
        throw new BackendUnavailableException("the " + name + " backend is not in this build of glmj (it lives in glmj's native module)");
    }
}
