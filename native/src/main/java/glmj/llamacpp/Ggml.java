package glmj.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.util.Objects;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** Bindings to what glmj uses of {@code ggml.h} and {@code ggml-backend.h}, in jextract's style. */
public final class Ggml {
    private Ggml() {}

    /** {@code struct ggml_type_traits}. */
    public static final class ggml_type_traits {
        private ggml_type_traits() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                ADDRESS.withName("type_name"),
                JAVA_LONG.withName("blck_size"),
                JAVA_LONG.withName("blck_size_interleave"),
                JAVA_LONG.withName("type_size"),
                JAVA_BOOLEAN.withName("is_quantized"),
                MemoryLayout.paddingLayout(7),
                ADDRESS.withName("to_float"),
                ADDRESS.withName("from_float_ref"));

        private static long offset(String field) {
            return LAYOUT.byteOffset(groupElement(field));
        }

        public static MemorySegment type_name(MemorySegment traits) {
            return traits.get(ADDRESS, offset("type_name"));
        }

        public static long blck_size(MemorySegment traits) {
            return traits.get(JAVA_LONG, offset("blck_size"));
        }

        public static long type_size(MemorySegment traits) {
            return traits.get(JAVA_LONG, offset("type_size"));
        }

        public static boolean is_quantized(MemorySegment traits) {
            return traits.get(JAVA_BOOLEAN, offset("is_quantized"));
        }

        public static MemorySegment to_float(MemorySegment traits) {
            return traits.get(ADDRESS, offset("to_float"));
        }

        public static MemorySegment from_float_ref(MemorySegment traits) {
            return traits.get(ADDRESS, offset("from_float_ref"));
        }
    }

    /**
     * {@code struct ggml_tensor} (ggml.h, {@code GGML_MAX_DIMS} 4, {@code GGML_MAX_OP_PARAMS} 64, {@code GGML_MAX_SRC} 10,
     * {@code GGML_MAX_NAME} 64): 336 bytes. Accessors for what reading a computed tensor needs; the data of a tensor in
     * a CPU backend buffer is host memory.
     */
    public static final class ggml_tensor {
        private ggml_tensor() {}

        public static final int GGML_MAX_DIMS = 4;
        public static final int GGML_MAX_NAME = 64;

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                JAVA_INT.withName("type"),
                MemoryLayout.paddingLayout(4),
                ADDRESS.withName("buffer"),
                MemoryLayout.sequenceLayout(GGML_MAX_DIMS, JAVA_LONG).withName("ne"),
                MemoryLayout.sequenceLayout(GGML_MAX_DIMS, JAVA_LONG).withName("nb"),
                JAVA_INT.withName("op"),
                MemoryLayout.sequenceLayout(64 / 4, JAVA_INT).withName("op_params"),
                JAVA_INT.withName("flags"),
                MemoryLayout.sequenceLayout(10, ADDRESS).withName("src"),
                ADDRESS.withName("view_src"),
                JAVA_LONG.withName("view_offs"),
                ADDRESS.withName("data"),
                MemoryLayout.sequenceLayout(GGML_MAX_NAME, JAVA_BYTE).withName("name"),
                ADDRESS.withName("extra"),
                MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("padding"));

        private static final long TYPE = offset("type"), NE = offset("ne"), NB = offset("nb"), DATA = offset("data"), NAME = offset("name");

        private static long offset(String field) {
            return LAYOUT.byteOffset(groupElement(field));
        }

        /** The struct at {@code address}, a pointer received from ggml. */
        public static MemorySegment reinterpret(MemorySegment address) {
            return address.reinterpret(LAYOUT.byteSize());
        }

        /** {@code enum ggml_type type}. */
        public static int type(MemorySegment tensor) {
            return tensor.get(JAVA_INT, TYPE);
        }

        /** {@code ne[dim]}: elements along dimension {@code dim}. */
        public static long ne(MemorySegment tensor, int dim) {
            return tensor.get(JAVA_LONG, NE + Objects.checkIndex(dim, GGML_MAX_DIMS) * JAVA_LONG.byteSize());
        }

        /** {@code nb[dim]}: the stride of dimension {@code dim} in bytes. */
        public static long nb(MemorySegment tensor, int dim) {
            return tensor.get(JAVA_LONG, NB + Objects.checkIndex(dim, GGML_MAX_DIMS) * JAVA_LONG.byteSize());
        }

        /** {@code void * data}. */
        public static MemorySegment data(MemorySegment tensor) {
            return tensor.get(ADDRESS, DATA);
        }

        /** {@code char name[GGML_MAX_NAME]}, up to its terminating zero. */
        public static String name(MemorySegment tensor) {
            return tensor.asSlice(NAME, GGML_MAX_NAME).getString(0);
        }

        /** Sets {@code nb[dim]}. */
        public static void nb(MemorySegment tensor, int dim, long stride) {
            tensor.set(JAVA_LONG, NB + Objects.checkIndex(dim, GGML_MAX_DIMS) * JAVA_LONG.byteSize(), stride);
        }

        /** Sets {@code void * data}: a tensor of a context made with {@code no_alloc} points where it is told. */
        public static void data(MemorySegment tensor, long address) {
            tensor.set(JAVA_LONG, DATA, address);
        }
    }

    /** {@code struct ggml_init_params}. */
    public static final class ggml_init_params {
        private ggml_init_params() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                JAVA_LONG.withName("mem_size"),
                ADDRESS.withName("mem_buffer"),
                JAVA_BOOLEAN.withName("no_alloc"),
                MemoryLayout.paddingLayout(7));

        /** Parameters of a context in {@code buffer} (all of it) whose tensors' data, if {@code noAlloc}, is set by the caller. */
        public static MemorySegment allocate(Arena arena, MemorySegment buffer, boolean noAlloc) {
            MemorySegment params = arena.allocate(LAYOUT);
            params.set(JAVA_LONG, LAYOUT.byteOffset(groupElement("mem_size")), buffer.byteSize());
            params.set(ADDRESS, LAYOUT.byteOffset(groupElement("mem_buffer")), buffer);
            params.set(JAVA_BOOLEAN, LAYOUT.byteOffset(groupElement("no_alloc")), noAlloc);
            return params;
        }
    }

    /**
     * {@code typedef bool (*ggml_backend_sched_eval_callback)(struct ggml_tensor * t, bool ask, void * user_data)}
     * (ggml-backend.h): with {@code ask} true the scheduler asks whether the caller wants node {@code t}; with
     * {@code ask} false it hands over a wanted node after computing it, and a false return cancels the graph compute.
     * The tensor address arrives zero-length: read it through {@link ggml_tensor#reinterpret}. An exception must not
     * leave {@code apply}: the JVM cannot unwind through ggml and exits.
     */
    public static final class ggml_backend_sched_eval_callback {
        private ggml_backend_sched_eval_callback() {}

        public interface Function {
            boolean apply(MemorySegment t, boolean ask, MemorySegment userData);
        }

        public static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_BOOLEAN, ADDRESS);

        public static MemorySegment allocate(Function function, Arena arena) {
            try {
                MethodHandle apply = MethodHandles.lookup().findVirtual(Function.class, "apply", DESC.toMethodType());
                return Linker.nativeLinker().upcallStub(apply.bindTo(function), DESC, arena);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    /**
     * {@code typedef bool (*ggml_abort_callback)(void * data)} (ggml.h): asked after each node of a graph compute
     * (by its first thread), and true stops the compute with {@code GGML_STATUS_ABORTED}. An exception must not leave
     * {@code apply}: the JVM cannot unwind through ggml and exits.
     */
    public static final class ggml_abort_callback {
        private ggml_abort_callback() {}

        public interface Function {
            boolean apply(MemorySegment data);
        }

        public static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS);

        public static MemorySegment allocate(Function function, Arena arena) {
            try {
                MethodHandle apply = MethodHandles.lookup().findVirtual(Function.class, "apply", DESC.toMethodType());
                return Linker.nativeLinker().upcallStub(apply.bindTo(function), DESC, arena);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** {@code typedef void (*ggml_to_float_t)(const void * x, float * y, int64_t k)}; also the shape of {@code ggml_from_float_t}. */
    public static final class ggml_to_float_t {
        private ggml_to_float_t() {}

        public static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG);
        private static final MethodHandle INVOKER = Linker.nativeLinker().downcallHandle(DESC);

        public static void invoke(MemorySegment function, MemorySegment x, MemorySegment y, long k) {
            try {
                INVOKER.invokeExact(function, x, y, k);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }

    /** {@code typedef void (*ggml_log_callback)(enum ggml_log_level level, const char * text, void * user_data)}. */
    public static final class ggml_log_callback {
        private ggml_log_callback() {}

        public interface Function {
            void apply(int level, MemorySegment text, MemorySegment userData);
        }

        public static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS);

        public static MemorySegment allocate(Function function, Arena arena) {
            try {
                MethodHandle apply = MethodHandles.lookup().findVirtual(Function.class, "apply", DESC.toMethodType());
                return Linker.nativeLinker().upcallStub(apply.bindTo(function), DESC, arena);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    private static final class ggml_version {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_version", DESC);
    }

    /** {@code const char * ggml_version(void)}. */
    public static MemorySegment ggml_version() {
        try {
            return ((MemorySegment) ggml_version.HANDLE.invokeExact()).reinterpret(Long.MAX_VALUE);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_get_type_traits {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_get_type_traits", DESC);
    }

    /** {@code const struct ggml_type_traits * ggml_get_type_traits(enum ggml_type type)}. */
    public static MemorySegment ggml_get_type_traits(int type) {
        try {
            return ((MemorySegment) ggml_get_type_traits.HANDLE.invokeExact(type)).reinterpret(ggml_type_traits.LAYOUT.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_tensor_overhead {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_tensor_overhead", DESC);
    }

    /** {@code size_t ggml_tensor_overhead(void)}: context memory per tensor, besides its data. */
    public static long ggml_tensor_overhead() {
        try {
            return (long) ggml_tensor_overhead.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_graph_overhead_custom {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_BOOLEAN);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_graph_overhead_custom", DESC);
    }

    /** {@code size_t ggml_graph_overhead_custom(size_t size, bool grads)}: context memory of a graph of {@code size} nodes. */
    public static long ggml_graph_overhead_custom(long size, boolean grads) {
        try {
            return (long) ggml_graph_overhead_custom.HANDLE.invokeExact(size, grads);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_init {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ggml_init_params.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_init", DESC);
    }

    /** {@code struct ggml_context * ggml_init(struct ggml_init_params params)}. */
    public static MemorySegment ggml_init(MemorySegment params) {
        try {
            return (MemorySegment) ggml_init.HANDLE.invokeExact(params);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_reset {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_reset", DESC);
    }

    /** {@code void ggml_reset(struct ggml_context * ctx)}: forgets every tensor and graph of the context. */
    public static void ggml_reset(MemorySegment ctx) {
        try {
            ggml_reset.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_free", DESC);
    }

    /** {@code void ggml_free(struct ggml_context * ctx)}. */
    public static void ggml_free(MemorySegment ctx) {
        try {
            ggml_free.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_new_tensor_2d {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_new_tensor_2d", DESC);
    }

    /** {@code struct ggml_tensor * ggml_new_tensor_2d(ctx, enum ggml_type type, int64_t ne0, int64_t ne1)}, as a {@link ggml_tensor}. */
    public static MemorySegment ggml_new_tensor_2d(MemorySegment ctx, int type, long ne0, long ne1) {
        try {
            return ggml_tensor.reinterpret((MemorySegment) ggml_new_tensor_2d.HANDLE.invokeExact(ctx, type, ne0, ne1));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_new_tensor_3d {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_new_tensor_3d", DESC);
    }

    /** {@code struct ggml_tensor * ggml_new_tensor_3d(ctx, enum ggml_type type, int64_t ne0, int64_t ne1, int64_t ne2)}, as a {@link ggml_tensor}. */
    public static MemorySegment ggml_new_tensor_3d(MemorySegment ctx, int type, long ne0, long ne1, long ne2) {
        try {
            return ggml_tensor.reinterpret((MemorySegment) ggml_new_tensor_3d.HANDLE.invokeExact(ctx, type, ne0, ne1, ne2));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_mul_mat {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_mul_mat", DESC);
    }

    /**
     * {@code struct ggml_tensor * ggml_mul_mat(ctx, a, b)}, as a {@link ggml_tensor}: f32 {@code [a.ne1, b.ne1]}, each
     * element the dot product of a row of {@code a} and a row of {@code b}.
     */
    public static MemorySegment ggml_mul_mat(MemorySegment ctx, MemorySegment a, MemorySegment b) {
        try {
            return ggml_tensor.reinterpret((MemorySegment) ggml_mul_mat.HANDLE.invokeExact(ctx, a, b));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_swiglu_split {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_swiglu_split", DESC);
    }

    /** {@code struct ggml_tensor * ggml_swiglu_split(ctx, a, b)}, as a {@link ggml_tensor}: {@code silu(a) * b}. */
    public static MemorySegment ggml_swiglu_split(MemorySegment ctx, MemorySegment a, MemorySegment b) {
        try {
            return ggml_tensor.reinterpret((MemorySegment) ggml_swiglu_split.HANDLE.invokeExact(ctx, a, b));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_sigmoid {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_sigmoid", DESC);
    }

    /** {@code struct ggml_tensor * ggml_sigmoid(ctx, a)}, as a {@link ggml_tensor}: {@code 1 / (1 + expf(-a))}. */
    public static MemorySegment ggml_sigmoid(MemorySegment ctx, MemorySegment a) {
        try {
            return ggml_tensor.reinterpret((MemorySegment) ggml_sigmoid.HANDLE.invokeExact(ctx, a));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_rope_ext {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_rope_ext", DESC);
    }

    /**
     * {@code struct ggml_tensor * ggml_rope_ext(ctx, a, b, c, int n_dims, int mode, int n_ctx_orig, float freq_base,
     * float freq_scale, float ext_factor, float attn_factor, float beta_fast, float beta_slow)}, as a
     * {@link ggml_tensor}: the first {@code n_dims} elements of each row of {@code a} (f32 {@code [row, heads, tokens]})
     * rotated by the positions in {@code b} (i32, one per token); {@code c}, frequency factors, may be NULL.
     */
    public static MemorySegment ggml_rope_ext(MemorySegment ctx, MemorySegment a, MemorySegment b, MemorySegment c, int nDims,
                                              int mode, int nCtxOrig, float freqBase, float freqScale, float extFactor,
                                              float attnFactor, float betaFast, float betaSlow) {
        try {
            return ggml_tensor.reinterpret((MemorySegment) ggml_rope_ext.HANDLE.invokeExact(ctx, a, b, c, nDims, mode, nCtxOrig,
                    freqBase, freqScale, extFactor, attnFactor, betaFast, betaSlow));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_new_graph_custom {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_BOOLEAN);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_new_graph_custom", DESC);
    }

    /** {@code struct ggml_cgraph * ggml_new_graph_custom(ctx, size_t size, bool grads)}. */
    public static MemorySegment ggml_new_graph_custom(MemorySegment ctx, long size, boolean grads) {
        try {
            return (MemorySegment) ggml_new_graph_custom.HANDLE.invokeExact(ctx, size, grads);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_build_forward_expand {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_build_forward_expand", DESC);
    }

    /** {@code void ggml_build_forward_expand(struct ggml_cgraph * cgraph, struct ggml_tensor * tensor)}. */
    public static void ggml_build_forward_expand(MemorySegment graph, MemorySegment tensor) {
        try {
            ggml_build_forward_expand.HANDLE.invokeExact(graph, tensor);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_quantize_chunk {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_quantize_chunk", DESC);
    }

    /** {@code size_t ggml_quantize_chunk(type, const float * src, void * dst, int64_t start, int64_t nrows, int64_t n_per_row, const float * imatrix)}. */
    public static long ggml_quantize_chunk(int type, MemorySegment src, MemorySegment dst, long start, long nrows, long nPerRow, MemorySegment imatrix) {
        try {
            return (long) ggml_quantize_chunk.HANDLE.invokeExact(type, src, dst, start, nrows, nPerRow, imatrix);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_quantize_init {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_quantize_init", DESC);
    }

    /** {@code void ggml_quantize_init(enum ggml_type type)}. */
    public static void ggml_quantize_init(int type) {
        try {
            ggml_quantize_init.HANDLE.invokeExact(type);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_quantize_requires_imatrix {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BOOLEAN, JAVA_INT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_quantize_requires_imatrix", DESC);
    }

    /** {@code bool ggml_quantize_requires_imatrix(enum ggml_type type)}. */
    public static boolean ggml_quantize_requires_imatrix(int type) {
        try {
            return (boolean) ggml_quantize_requires_imatrix.HANDLE.invokeExact(type);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_fp16_to_fp32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_FLOAT, JAVA_SHORT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_fp16_to_fp32", DESC);
    }

    /** {@code float ggml_fp16_to_fp32(ggml_fp16_t)}. */
    public static float ggml_fp16_to_fp32(short half) {
        try {
            return (float) ggml_fp16_to_fp32.HANDLE.invokeExact(half);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_backend_load_all_from_path {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_backend_load_all_from_path", DESC);
    }

    /** {@code void ggml_backend_load_all_from_path(const char * dir_path)}. */
    public static void ggml_backend_load_all_from_path(MemorySegment directory) {
        try {
            ggml_backend_load_all_from_path.HANDLE.invokeExact(directory);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_backend_reg_count {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_backend_reg_count", DESC);
    }

    /** {@code size_t ggml_backend_reg_count(void)}. */
    public static long ggml_backend_reg_count() {
        try {
            return (long) ggml_backend_reg_count.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_log_set {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("ggml_log_set", DESC);
    }

    /** {@code void ggml_log_set(ggml_log_callback log_callback, void * user_data)}. */
    public static void ggml_log_set(MemorySegment callback, MemorySegment userData) {
        try {
            ggml_log_set.HANDLE.invokeExact(callback, userData);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Decodes {@code n} values of {@code type} at {@code src} into floats at {@code dst} with ggml's {@code to_float}, or,
     * for types whose traits have none (Q8_K, used only for activations), with the {@code dequantize_row_*} function
     * ggml exports for them.
     */
    public static void toFloat(int type, MemorySegment src, MemorySegment dst, long n) {
        MemorySegment traits = ggml_get_type_traits(type);
        ggml_to_float_t.invoke(orExported(ggml_type_traits.to_float(traits), "dequantize_row_" + typeName(traits)), src, dst, n);
    }

    /**
     * Quantizes {@code n} floats at {@code src} into blocks of {@code type} at {@code dst} with ggml's reference
     * quantizer ({@code from_float_ref}, or the exported {@code quantize_row_*_ref} where the traits have none).
     */
    public static void fromFloatRef(int type, MemorySegment src, MemorySegment dst, long n) {
        MemorySegment traits = ggml_get_type_traits(type);
        ggml_to_float_t.invoke(orExported(ggml_type_traits.from_float_ref(traits), "quantize_row_" + typeName(traits) + "_ref"), src, dst, n);
    }

    private static String typeName(MemorySegment traits) {
        return ggml_type_traits.type_name(traits).reinterpret(64).getString(0);
    }

    private static MemorySegment orExported(MemorySegment function, String exported) {
        return function.equals(MemorySegment.NULL) ? LlamaLibrary.load().find(exported) : function;
    }
}
