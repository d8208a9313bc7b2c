package glmj.llamacpp;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Bindings to what glmj uses of {@code llama.h}, in jextract's style: struct layouts with field accessors, and one
 * lazily linked downcall per function. Structs returned by value take a {@link SegmentAllocator}.
 */
public final class Llama {
    private Llama() {}

    /** Named fields of a struct layout, read and written by name (the accessors of jextract's struct classes). */
    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }

    /** {@code struct llama_model_params}. */
    public static final class llama_model_params {
        private llama_model_params() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                ADDRESS.withName("devices"),
                ADDRESS.withName("tensor_buft_overrides"),
                JAVA_INT.withName("n_gpu_layers"),
                JAVA_INT.withName("split_mode"),
                JAVA_INT.withName("load_mode"),
                JAVA_INT.withName("lazy_mode"),
                JAVA_INT.withName("main_gpu"),
                MemoryLayout.paddingLayout(4),
                ADDRESS.withName("tensor_split"),
                ADDRESS.withName("progress_callback"),
                ADDRESS.withName("progress_callback_user_data"),
                ADDRESS.withName("kv_overrides"),
                JAVA_BOOLEAN.withName("vocab_only"),
                JAVA_BOOLEAN.withName("check_tensors"),
                JAVA_BOOLEAN.withName("use_extra_bufts"),
                JAVA_BOOLEAN.withName("no_host"),
                JAVA_BOOLEAN.withName("no_alloc"),
                JAVA_BOOLEAN.withName("load_mtp"),
                MemoryLayout.paddingLayout(2));

        public static void n_gpu_layers(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "n_gpu_layers"), value);
        }

        public static void use_extra_bufts(MemorySegment params, boolean value) {
            params.set(JAVA_BOOLEAN, offset(LAYOUT, "use_extra_bufts"), value);
        }

        public static void vocab_only(MemorySegment params, boolean value) {
            params.set(JAVA_BOOLEAN, offset(LAYOUT, "vocab_only"), value);
        }

        public static boolean vocab_only(MemorySegment params) {
            return params.get(JAVA_BOOLEAN, offset(LAYOUT, "vocab_only"));
        }
    }

    /** {@code struct llama_context_params}. */
    public static final class llama_context_params {
        private llama_context_params() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                JAVA_INT.withName("n_ctx"),
                JAVA_INT.withName("n_batch"),
                JAVA_INT.withName("n_ubatch"),
                JAVA_INT.withName("n_seq_max"),
                JAVA_INT.withName("n_rs_seq"),
                JAVA_INT.withName("n_outputs_max"),
                JAVA_INT.withName("n_outputs_max_per_seq"),
                JAVA_INT.withName("n_threads"),
                JAVA_INT.withName("n_threads_batch"),
                JAVA_INT.withName("ctx_type"),
                JAVA_INT.withName("rope_scaling_type"),
                JAVA_INT.withName("pooling_type"),
                JAVA_INT.withName("attention_type"),
                JAVA_INT.withName("flash_attn_type"),
                JAVA_FLOAT.withName("rope_freq_base"),
                JAVA_FLOAT.withName("rope_freq_scale"),
                JAVA_FLOAT.withName("yarn_ext_factor"),
                JAVA_FLOAT.withName("yarn_attn_factor"),
                JAVA_FLOAT.withName("yarn_beta_fast"),
                JAVA_FLOAT.withName("yarn_beta_slow"),
                JAVA_INT.withName("yarn_orig_ctx"),
                JAVA_FLOAT.withName("defrag_thold"),
                ADDRESS.withName("cb_eval"),
                ADDRESS.withName("cb_eval_user_data"),
                JAVA_INT.withName("type_k"),
                JAVA_INT.withName("type_v"),
                ADDRESS.withName("abort_callback"),
                ADDRESS.withName("abort_callback_data"),
                JAVA_BOOLEAN.withName("embeddings"),
                JAVA_BOOLEAN.withName("offload_kqv"),
                JAVA_BOOLEAN.withName("no_perf"),
                JAVA_BOOLEAN.withName("op_offload"),
                JAVA_BOOLEAN.withName("swa_full"),
                JAVA_BOOLEAN.withName("kv_unified"),
                MemoryLayout.paddingLayout(2),
                ADDRESS.withName("samplers"),
                JAVA_LONG.withName("n_samplers"),
                ADDRESS.withName("ctx_other"));

        public static void n_ctx(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "n_ctx"), value);
        }

        public static void n_batch(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "n_batch"), value);
        }

        public static void n_ubatch(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "n_ubatch"), value);
        }

        public static void n_seq_max(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "n_seq_max"), value);
        }

        public static void n_threads(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "n_threads"), value);
        }

        public static void n_threads_batch(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "n_threads_batch"), value);
        }

        public static void flash_attn_type(MemorySegment params, int value) {
            params.set(JAVA_INT, offset(LAYOUT, "flash_attn_type"), value);
        }

        public static void cb_eval(MemorySegment params, MemorySegment callback, MemorySegment userData) {
            params.set(ADDRESS, offset(LAYOUT, "cb_eval"), callback);
            params.set(ADDRESS, offset(LAYOUT, "cb_eval_user_data"), userData);
        }

        public static void no_perf(MemorySegment params, boolean value) {
            params.set(JAVA_BOOLEAN, offset(LAYOUT, "no_perf"), value);
        }
    }

    /** {@code struct llama_batch}: parallel arrays of {@code n_tokens} entries, allocated by llama.cpp. */
    public static final class llama_batch {
        private llama_batch() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                JAVA_INT.withName("n_tokens"),
                MemoryLayout.paddingLayout(4),
                ADDRESS.withName("token"),
                ADDRESS.withName("embd"),
                ADDRESS.withName("pos"),
                ADDRESS.withName("n_seq_id"),
                ADDRESS.withName("seq_id"),
                ADDRESS.withName("logits"));

        public static int n_tokens(MemorySegment batch) {
            return batch.get(JAVA_INT, offset(LAYOUT, "n_tokens"));
        }

        public static void n_tokens(MemorySegment batch, int value) {
            batch.set(JAVA_INT, offset(LAYOUT, "n_tokens"), value);
        }

        /** The array field {@code name} ({@code token}, {@code pos}, {@code n_seq_id}, {@code seq_id}, {@code logits}), sized for {@code capacity} entries of {@code element}. */
        public static MemorySegment array(MemorySegment batch, String name, int capacity, ValueLayout element) {
            return batch.get(ADDRESS, offset(LAYOUT, name)).reinterpret((long) capacity * element.byteSize());
        }
    }

    private static final class llama_backend_init {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid();
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_backend_init", DESC);
    }

    /** {@code void llama_backend_init(void)}. */
    public static void llama_backend_init() {
        try {
            llama_backend_init.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_backend_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid();
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_backend_free", DESC);
    }

    /** {@code void llama_backend_free(void)}. */
    public static void llama_backend_free() {
        try {
            llama_backend_free.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_print_system_info {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_print_system_info", DESC);
    }

    /** {@code const char * llama_print_system_info(void)}. */
    public static MemorySegment llama_print_system_info() {
        try {
            return (MemorySegment) llama_print_system_info.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_log_set {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_log_set", DESC);
    }

    /** {@code void llama_log_set(ggml_log_callback log_callback, void * user_data)}. */
    public static void llama_log_set(MemorySegment logCallback, MemorySegment userData) {
        try {
            llama_log_set.HANDLE.invokeExact(logCallback, userData);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_default_params {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(llama_model_params.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_default_params", DESC);
    }

    /** {@code struct llama_model_params llama_model_default_params(void)}. */
    public static MemorySegment llama_model_default_params(SegmentAllocator allocator) {
        try {
            return (MemorySegment) llama_model_default_params.HANDLE.invokeExact(allocator);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_context_default_params {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(llama_context_params.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_context_default_params", DESC);
    }

    /** {@code struct llama_context_params llama_context_default_params(void)}. */
    public static MemorySegment llama_context_default_params(SegmentAllocator allocator) {
        try {
            return (MemorySegment) llama_context_default_params.HANDLE.invokeExact(allocator);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_load_from_file {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, llama_model_params.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_load_from_file", DESC);
    }

    /** {@code struct llama_model * llama_model_load_from_file(const char * path_model, struct llama_model_params params)}. */
    public static MemorySegment llama_model_load_from_file(MemorySegment pathModel, MemorySegment params) {
        try {
            return (MemorySegment) llama_model_load_from_file.HANDLE.invokeExact(pathModel, params);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_load_from_splits {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, llama_model_params.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_load_from_splits", DESC);
    }

    /** {@code struct llama_model * llama_model_load_from_splits(const char ** paths, size_t n_paths, struct llama_model_params params)}. */
    public static MemorySegment llama_model_load_from_splits(MemorySegment paths, long nPaths, MemorySegment params) {
        try {
            return (MemorySegment) llama_model_load_from_splits.HANDLE.invokeExact(paths, nPaths, params);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_free", DESC);
    }

    /** {@code void llama_model_free(struct llama_model * model)}. */
    public static void llama_model_free(MemorySegment model) {
        try {
            llama_model_free.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_init_from_model {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, llama_context_params.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_init_from_model", DESC);
    }

    /** {@code struct llama_context * llama_init_from_model(struct llama_model * model, struct llama_context_params params)}. */
    public static MemorySegment llama_init_from_model(MemorySegment model, MemorySegment params) {
        try {
            return (MemorySegment) llama_init_from_model.HANDLE.invokeExact(model, params);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_free", DESC);
    }

    /** {@code void llama_free(struct llama_context * ctx)}. */
    public static void llama_free(MemorySegment ctx) {
        try {
            llama_free.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_n_ctx {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_n_ctx", DESC);
    }

    /** {@code uint32_t llama_n_ctx(const struct llama_context * ctx)}. */
    public static int llama_n_ctx(MemorySegment ctx) {
        try {
            return (int) llama_n_ctx.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_set_n_threads {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_set_n_threads", DESC);
    }

    /** {@code void llama_set_n_threads(struct llama_context * ctx, int32_t n_threads, int32_t n_threads_batch)}. */
    public static void llama_set_n_threads(MemorySegment ctx, int nThreads, int nThreadsBatch) {
        try {
            llama_set_n_threads.HANDLE.invokeExact(ctx, nThreads, nThreadsBatch);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_set_abort_callback {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_set_abort_callback", DESC);
    }

    /**
     * {@code void llama_set_abort_callback(struct llama_context * ctx, ggml_abort_callback abort_callback, void * abort_callback_data)}:
     * {@link Ggml.ggml_abort_callback}, asked during {@code llama_decode}, which returns 2 when it stops it.
     */
    public static void llama_set_abort_callback(MemorySegment ctx, MemorySegment abortCallback, MemorySegment abortCallbackData) {
        try {
            llama_set_abort_callback.HANDLE.invokeExact(ctx, abortCallback, abortCallbackData);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_get_memory {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_get_memory", DESC);
    }

    /** {@code llama_memory_t llama_get_memory(const struct llama_context * ctx)}. */
    public static MemorySegment llama_get_memory(MemorySegment ctx) {
        try {
            return (MemorySegment) llama_get_memory.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_memory_clear {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, JAVA_BOOLEAN);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_memory_clear", DESC);
    }

    /** {@code void llama_memory_clear(llama_memory_t mem, bool data)}. */
    public static void llama_memory_clear(MemorySegment mem, boolean data) {
        try {
            llama_memory_clear.HANDLE.invokeExact(mem, data);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_get_vocab {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_get_vocab", DESC);
    }

    /** {@code const struct llama_vocab * llama_model_get_vocab(const struct llama_model * model)}. */
    public static MemorySegment llama_model_get_vocab(MemorySegment model) {
        try {
            return (MemorySegment) llama_model_get_vocab.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_n_embd {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_n_embd", DESC);
    }

    /** {@code int32_t llama_model_n_embd(const struct llama_model * model)}. */
    public static int llama_model_n_embd(MemorySegment model) {
        try {
            return (int) llama_model_n_embd.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_n_layer {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_n_layer", DESC);
    }

    /** {@code int32_t llama_model_n_layer(const struct llama_model * model)}. */
    public static int llama_model_n_layer(MemorySegment model) {
        try {
            return (int) llama_model_n_layer.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_n_ctx_train {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_n_ctx_train", DESC);
    }

    /** {@code int32_t llama_model_n_ctx_train(const struct llama_model * model)}. */
    public static int llama_model_n_ctx_train(MemorySegment model) {
        try {
            return (int) llama_model_n_ctx_train.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_n_params {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_n_params", DESC);
    }

    /** {@code uint64_t llama_model_n_params(const struct llama_model * model)}. */
    public static long llama_model_n_params(MemorySegment model) {
        try {
            return (long) llama_model_n_params.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_size {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_size", DESC);
    }

    /** {@code uint64_t llama_model_size(const struct llama_model * model)}. */
    public static long llama_model_size(MemorySegment model) {
        try {
            return (long) llama_model_size.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_desc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_desc", DESC);
    }

    /** {@code int32_t llama_model_desc(const struct llama_model * model, char * buf, size_t buf_size)}. */
    public static int llama_model_desc(MemorySegment model, MemorySegment buf, long bufSize) {
        try {
            return (int) llama_model_desc.HANDLE.invokeExact(model, buf, bufSize);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_meta_val_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_meta_val_str", DESC);
    }

    /** {@code int32_t llama_model_meta_val_str(const struct llama_model * model, const char * key, char * buf, size_t buf_size)}. */
    public static int llama_model_meta_val_str(MemorySegment model, MemorySegment key, MemorySegment buf, long bufSize) {
        try {
            return (int) llama_model_meta_val_str.HANDLE.invokeExact(model, key, buf, bufSize);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_meta_count {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_meta_count", DESC);
    }

    /** {@code int32_t llama_model_meta_count(const struct llama_model * model)}. */
    public static int llama_model_meta_count(MemorySegment model) {
        try {
            return (int) llama_model_meta_count.HANDLE.invokeExact(model);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_meta_key_by_index {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_meta_key_by_index", DESC);
    }

    /** {@code int32_t llama_model_meta_key_by_index(const struct llama_model * model, int32_t i, char * buf, size_t buf_size)}. */
    public static int llama_model_meta_key_by_index(MemorySegment model, int i, MemorySegment buf, long bufSize) {
        try {
            return (int) llama_model_meta_key_by_index.HANDLE.invokeExact(model, i, buf, bufSize);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_meta_val_str_by_index {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_meta_val_str_by_index", DESC);
    }

    /** {@code int32_t llama_model_meta_val_str_by_index(const struct llama_model * model, int32_t i, char * buf, size_t buf_size)}. */
    public static int llama_model_meta_val_str_by_index(MemorySegment model, int i, MemorySegment buf, long bufSize) {
        try {
            return (int) llama_model_meta_val_str_by_index.HANDLE.invokeExact(model, i, buf, bufSize);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_model_chat_template {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_model_chat_template", DESC);
    }

    /** {@code const char * llama_model_chat_template(const struct llama_model * model, const char * name)}. */
    public static MemorySegment llama_model_chat_template(MemorySegment model, MemorySegment name) {
        try {
            return (MemorySegment) llama_model_chat_template.HANDLE.invokeExact(model, name);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_n_tokens {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_n_tokens", DESC);
    }

    /** {@code int32_t llama_vocab_n_tokens(const struct llama_vocab * vocab)}. */
    public static int llama_vocab_n_tokens(MemorySegment vocab) {
        try {
            return (int) llama_vocab_n_tokens.HANDLE.invokeExact(vocab);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_get_text {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_get_text", DESC);
    }

    /** {@code const char * llama_vocab_get_text(const struct llama_vocab * vocab, llama_token token)}. */
    public static MemorySegment llama_vocab_get_text(MemorySegment vocab, int token) {
        try {
            return (MemorySegment) llama_vocab_get_text.HANDLE.invokeExact(vocab, token);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_get_attr {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_get_attr", DESC);
    }

    /** {@code enum llama_token_attr llama_vocab_get_attr(const struct llama_vocab * vocab, llama_token token)}. */
    public static int llama_vocab_get_attr(MemorySegment vocab, int token) {
        try {
            return (int) llama_vocab_get_attr.HANDLE.invokeExact(vocab, token);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_is_eog {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_is_eog", DESC);
    }

    /** {@code bool llama_vocab_is_eog(const struct llama_vocab * vocab, llama_token token)}. */
    public static boolean llama_vocab_is_eog(MemorySegment vocab, int token) {
        try {
            return (boolean) llama_vocab_is_eog.HANDLE.invokeExact(vocab, token);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_is_control {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_is_control", DESC);
    }

    /** {@code bool llama_vocab_is_control(const struct llama_vocab * vocab, llama_token token)}. */
    public static boolean llama_vocab_is_control(MemorySegment vocab, int token) {
        try {
            return (boolean) llama_vocab_is_control.HANDLE.invokeExact(vocab, token);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_bos {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_bos", DESC);
    }

    /** {@code llama_token llama_vocab_bos(const struct llama_vocab * vocab)}. */
    public static int llama_vocab_bos(MemorySegment vocab) {
        try {
            return (int) llama_vocab_bos.HANDLE.invokeExact(vocab);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_eos {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_eos", DESC);
    }

    /** {@code llama_token llama_vocab_eos(const struct llama_vocab * vocab)}. */
    public static int llama_vocab_eos(MemorySegment vocab) {
        try {
            return (int) llama_vocab_eos.HANDLE.invokeExact(vocab);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_vocab_eot {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_vocab_eot", DESC);
    }

    /** {@code llama_token llama_vocab_eot(const struct llama_vocab * vocab)}. */
    public static int llama_vocab_eot(MemorySegment vocab) {
        try {
            return (int) llama_vocab_eot.HANDLE.invokeExact(vocab);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_tokenize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_tokenize", DESC);
    }

    /** {@code int32_t llama_tokenize(const struct llama_vocab * vocab, const char * text, int32_t text_len, llama_token * tokens, int32_t n_tokens_max, bool add_special, bool parse_special)}. */
    public static int llama_tokenize(MemorySegment vocab, MemorySegment text, int textLen, MemorySegment tokens, int nTokensMax, boolean addSpecial, boolean parseSpecial) {
        try {
            return (int) llama_tokenize.HANDLE.invokeExact(vocab, text, textLen, tokens, nTokensMax, addSpecial, parseSpecial);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_token_to_piece {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_BOOLEAN);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_token_to_piece", DESC);
    }

    /** {@code int32_t llama_token_to_piece(const struct llama_vocab * vocab, llama_token token, char * buf, int32_t length, int32_t lstrip, bool special)}. */
    public static int llama_token_to_piece(MemorySegment vocab, int token, MemorySegment buf, int length, int lstrip, boolean special) {
        try {
            return (int) llama_token_to_piece.HANDLE.invokeExact(vocab, token, buf, length, lstrip, special);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_detokenize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_detokenize", DESC);
    }

    /** {@code int32_t llama_detokenize(const struct llama_vocab * vocab, const llama_token * tokens, int32_t n_tokens, char * text, int32_t text_len_max, bool remove_special, bool unparse_special)}. */
    public static int llama_detokenize(MemorySegment vocab, MemorySegment tokens, int nTokens, MemorySegment text, int textLenMax, boolean removeSpecial, boolean unparseSpecial) {
        try {
            return (int) llama_detokenize.HANDLE.invokeExact(vocab, tokens, nTokens, text, textLenMax, removeSpecial, unparseSpecial);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_batch_get_one {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(llama_batch.LAYOUT, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_batch_get_one", DESC);
    }

    /** {@code struct llama_batch llama_batch_get_one(llama_token * tokens, int32_t n_tokens)}. */
    public static MemorySegment llama_batch_get_one(SegmentAllocator allocator, MemorySegment tokens, int nTokens) {
        try {
            return (MemorySegment) llama_batch_get_one.HANDLE.invokeExact(allocator, tokens, nTokens);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_batch_init {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(llama_batch.LAYOUT, JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_batch_init", DESC);
    }

    /** {@code struct llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max)}. */
    public static MemorySegment llama_batch_init(SegmentAllocator allocator, int nTokens, int embd, int nSeqMax) {
        try {
            return (MemorySegment) llama_batch_init.HANDLE.invokeExact(allocator, nTokens, embd, nSeqMax);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_batch_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(llama_batch.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_batch_free", DESC);
    }

    /** {@code void llama_batch_free(struct llama_batch batch)}. */
    public static void llama_batch_free(MemorySegment batch) {
        try {
            llama_batch_free.HANDLE.invokeExact(batch);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_decode {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, llama_batch.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_decode", DESC);
    }

    /** {@code int32_t llama_decode(struct llama_context * ctx, struct llama_batch batch)}. */
    public static int llama_decode(MemorySegment ctx, MemorySegment batch) {
        try {
            return (int) llama_decode.HANDLE.invokeExact(ctx, batch);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_get_logits {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_get_logits", DESC);
    }

    /** {@code float * llama_get_logits(struct llama_context * ctx)}. */
    public static MemorySegment llama_get_logits(MemorySegment ctx) {
        try {
            return (MemorySegment) llama_get_logits.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_get_logits_ith {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_get_logits_ith", DESC);
    }

    /** {@code float * llama_get_logits_ith(struct llama_context * ctx, int32_t i)}. */
    public static MemorySegment llama_get_logits_ith(MemorySegment ctx, int i) {
        try {
            return (MemorySegment) llama_get_logits_ith.HANDLE.invokeExact(ctx, i);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_memory_seq_rm {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_memory_seq_rm", DESC);
    }

    /** {@code bool llama_memory_seq_rm(llama_memory_t mem, llama_seq_id seq_id, llama_pos p0, llama_pos p1)}. */
    public static boolean llama_memory_seq_rm(MemorySegment mem, int seqId, int p0, int p1) {
        try {
            return (boolean) llama_memory_seq_rm.HANDLE.invokeExact(mem, seqId, p0, p1);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_state_seq_get_size {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_state_seq_get_size", DESC);
    }

    /** {@code size_t llama_state_seq_get_size(struct llama_context * ctx, llama_seq_id seq_id)}. */
    public static long llama_state_seq_get_size(MemorySegment ctx, int seqId) {
        try {
            return (long) llama_state_seq_get_size.HANDLE.invokeExact(ctx, seqId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_state_seq_get_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_state_seq_get_data", DESC);
    }

    /** {@code size_t llama_state_seq_get_data(struct llama_context * ctx, uint8_t * dst, size_t size, llama_seq_id seq_id)}. */
    public static long llama_state_seq_get_data(MemorySegment ctx, MemorySegment dst, long size, int seqId) {
        try {
            return (long) llama_state_seq_get_data.HANDLE.invokeExact(ctx, dst, size, seqId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_state_seq_set_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_state_seq_set_data", DESC);
    }

    /** {@code size_t llama_state_seq_set_data(struct llama_context * ctx, const uint8_t * src, size_t size, llama_seq_id dest_seq_id)}. */
    public static long llama_state_seq_set_data(MemorySegment ctx, MemorySegment src, long size, int destSeqId) {
        try {
            return (long) llama_state_seq_set_data.HANDLE.invokeExact(ctx, src, size, destSeqId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class llama_n_batch {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("llama_n_batch", DESC);
    }

    /** {@code uint32_t llama_n_batch(const struct llama_context * ctx)}. */
    public static int llama_n_batch(MemorySegment ctx) {
        try {
            return (int) llama_n_batch.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
