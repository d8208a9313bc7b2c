package glmj.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * llama.cpp's vocabulary API on a model loaded with {@code vocab_only}: the oracle for the tokenizer tests. A minimal
 * test-scope binding of the few functions needed (llama.h of v0.5.0), until the shared glmj.llamacpp bindings exist.
 */
final class VocabOnlyLlama implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();

    /** llama_model_params of llama.h v0.5.0 (80 bytes); only vocab_only is changed from the defaults. */
    private static final StructLayout MODEL_PARAMS = MemoryLayout.structLayout(
            ADDRESS.withName("devices"), ADDRESS.withName("tensor_buft_overrides"),
            JAVA_INT.withName("n_gpu_layers"), JAVA_INT.withName("split_mode"), JAVA_INT.withName("load_mode"),
            JAVA_INT.withName("lazy_mode"), JAVA_INT.withName("main_gpu"), MemoryLayout.paddingLayout(4),
            ADDRESS.withName("tensor_split"), ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"), ADDRESS.withName("kv_overrides"),
            JAVA_BOOLEAN.withName("vocab_only"), JAVA_BOOLEAN.withName("check_tensors"),
            JAVA_BOOLEAN.withName("use_extra_bufts"), JAVA_BOOLEAN.withName("no_host"),
            JAVA_BOOLEAN.withName("no_alloc"), JAVA_BOOLEAN.withName("load_mtp"), MemoryLayout.paddingLayout(2));

    private static final SymbolLookup LIBRARY = load();

    private static final MethodHandle MODEL_DEFAULT_PARAMS = handle("llama_model_default_params",
            FunctionDescriptor.of(MODEL_PARAMS));
    private static final MethodHandle MODEL_LOAD = handle("llama_model_load_from_file",
            FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS));
    private static final MethodHandle MODEL_FREE = handle("llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle MODEL_GET_VOCAB = handle("llama_model_get_vocab",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle VOCAB_N_TOKENS = handle("llama_vocab_n_tokens",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle VOCAB_IS_EOG = handle("llama_vocab_is_eog",
            FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT));
    private static final MethodHandle TOKENIZE = handle("llama_tokenize", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN));
    private static final MethodHandle TOKEN_TO_PIECE = handle("llama_token_to_piece", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_BOOLEAN));
    private static final MethodHandle DETOKENIZE = handle("llama_detokenize", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN));

    private final MemorySegment model;
    private final MemorySegment vocab;
    private final Arena arena = Arena.ofConfined();
    private MemorySegment buffer = arena.allocate(1 << 16);

    private static SymbolLookup load() {
        String dir = System.getProperty("glmj.llama.lib");
        Path lib = dir == null ? null : Path.of(dir).resolve("libllama.v0.5.0.so");
        if (lib == null || !Files.isRegularFile(lib)) {
            throw new IllegalStateException("llama.cpp libraries not found (glmj.llama.lib=" + dir
                    + "); run scripts/install-llama");
        }
        SymbolLookup lookup = SymbolLookup.libraryLookup(lib, Arena.global());
        try (Arena temp = Arena.ofConfined()) {
            MethodHandle quiet = MethodHandles.lookup().findStatic(VocabOnlyLlama.class, "ignoreLog",
                    MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment callback = LINKER.upcallStub(quiet,
                    FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), Arena.global());
            LINKER.downcallHandle(lookup.findOrThrow("llama_log_set"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS))
                    .invokeExact(callback, MemorySegment.NULL);
            LINKER.downcallHandle(lookup.findOrThrow("ggml_backend_load_all_from_path"),
                    FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(temp.allocateFrom(dir));
            LINKER.downcallHandle(lookup.findOrThrow("llama_backend_init"), FunctionDescriptor.ofVoid()).invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("cannot initialize llama.cpp from " + lib, t);
        }
        return lookup;
    }

    @SuppressWarnings("unused") // upcall target
    private static void ignoreLog(int level, MemorySegment text, MemorySegment userData) {
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBRARY.findOrThrow(name), descriptor);
    }

    VocabOnlyLlama(Path gguf) {
        try {
            MemorySegment params = (MemorySegment) MODEL_DEFAULT_PARAMS.invokeExact((java.lang.foreign.SegmentAllocator) arena);
            params.set(JAVA_BOOLEAN, MODEL_PARAMS.byteOffset(MemoryLayout.PathElement.groupElement("vocab_only")), true);
            model = (MemorySegment) MODEL_LOAD.invokeExact(arena.allocateFrom(gguf.toString()), params);
            if (model.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("llama_model_load_from_file failed for " + gguf);
            }
            vocab = (MemorySegment) MODEL_GET_VOCAB.invokeExact(model);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int vocabularySize() {
        try {
            return (int) VOCAB_N_TOKENS.invokeExact(vocab);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    boolean isEndOfGeneration(int token) {
        try {
            return (boolean) VOCAB_IS_EOG.invokeExact(vocab, token);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int[] tokenize(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment text = call.allocate(Math.max(1, utf8.length));
            MemorySegment.copy(utf8, 0, text, ValueLayout.JAVA_BYTE, 0, utf8.length);
            int capacity = utf8.length + 4;
            MemorySegment tokens = call.allocate(JAVA_INT, capacity);
            int n = (int) TOKENIZE.invokeExact(vocab, text, utf8.length, tokens, capacity, addSpecial, parseSpecial);
            if (n < 0) {
                throw new IllegalStateException("llama_tokenize needs " + -n + " tokens, more than " + capacity);
            }
            return tokens.asSlice(0, (long) n * 4).toArray(JAVA_INT);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    byte[] tokenPiece(int token, boolean special) {
        try {
            int n = (int) TOKEN_TO_PIECE.invokeExact(vocab, token, buffer, (int) buffer.byteSize(), 0, special);
            if (n < 0) {
                buffer = arena.allocate(-n * 2L);
                return tokenPiece(token, special);
            }
            return buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    byte[] detokenize(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment ids = call.allocateFrom(JAVA_INT, tokens.length == 0 ? new int[1] : tokens);
            int n = (int) DETOKENIZE.invokeExact(vocab, ids, tokens.length, buffer, (int) buffer.byteSize(),
                    removeSpecial, unparseSpecial);
            if (n < 0) {
                buffer = arena.allocate(-n * 2L);
                return detokenize(tokens, removeSpecial, unparseSpecial);
            }
            return Arrays.copyOf(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), n);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        try {
            MODEL_FREE.invokeExact(model);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            arena.close();
        }
    }
}
