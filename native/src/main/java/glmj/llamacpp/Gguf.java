package glmj.llamacpp;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Bindings to {@code gguf.h}, ggml's GGUF reader, in jextract's style. Unsigned C values come back in the signed Java
 * type of the same width; {@code size_t} is {@code long}; enums are {@code int}.
 */
public final class Gguf {
    private Gguf() {}

    /** {@code struct gguf_init_params}. */
    public static final class gguf_init_params {
        private gguf_init_params() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                JAVA_BOOLEAN.withName("no_alloc"),
                MemoryLayout.paddingLayout(7),
                ADDRESS.withName("ctx"));

        public static StructLayout layout() {
            return LAYOUT;
        }

        public static void no_alloc(MemorySegment params, boolean value) {
            params.set(JAVA_BOOLEAN, LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("no_alloc")), value);
        }

        public static void ctx(MemorySegment params, MemorySegment value) {
            params.set(ADDRESS, LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("ctx")), value);
        }
    }

    private static final class gguf_init_from_file {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, gguf_init_params.LAYOUT);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_init_from_file", DESC);
    }

    /** {@code struct gguf_context * gguf_init_from_file(const char * fname, struct gguf_init_params params)}. */
    public static MemorySegment gguf_init_from_file(MemorySegment fname, MemorySegment params) {
        try {
            return (MemorySegment) gguf_init_from_file.HANDLE.invokeExact(fname, params);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_free", DESC);
    }

    /** {@code void gguf_free(struct gguf_context * ctx)}. */
    public static void gguf_free(MemorySegment ctx) {
        try {
            gguf_free.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_version {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_version", DESC);
    }

    /** {@code uint32_t gguf_get_version(const struct gguf_context * ctx)}. */
    public static int gguf_get_version(MemorySegment ctx) {
        try {
            return (int) gguf_get_version.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_alignment {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_alignment", DESC);
    }

    /** {@code size_t gguf_get_alignment(const struct gguf_context * ctx)}. */
    public static long gguf_get_alignment(MemorySegment ctx) {
        try {
            return (long) gguf_get_alignment.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_data_offset {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_data_offset", DESC);
    }

    /** {@code size_t gguf_get_data_offset(const struct gguf_context * ctx)}. */
    public static long gguf_get_data_offset(MemorySegment ctx) {
        try {
            return (long) gguf_get_data_offset.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_n_kv {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_n_kv", DESC);
    }

    /** {@code int64_t gguf_get_n_kv(const struct gguf_context * ctx)}. */
    public static long gguf_get_n_kv(MemorySegment ctx) {
        try {
            return (long) gguf_get_n_kv.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_find_key {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_find_key", DESC);
    }

    /** {@code int64_t gguf_find_key(const struct gguf_context * ctx, const char * key)}. */
    public static long gguf_find_key(MemorySegment ctx, MemorySegment key) {
        try {
            return (long) gguf_find_key.HANDLE.invokeExact(ctx, key);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_key {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_key", DESC);
    }

    /** {@code const char * gguf_get_key(const struct gguf_context * ctx, int64_t key_id)}. */
    public static MemorySegment gguf_get_key(MemorySegment ctx, long keyId) {
        try {
            return (MemorySegment) gguf_get_key.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_kv_type {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_kv_type", DESC);
    }

    /** {@code enum gguf_type gguf_get_kv_type(const struct gguf_context * ctx, int64_t key_id)}. */
    public static int gguf_get_kv_type(MemorySegment ctx, long keyId) {
        try {
            return (int) gguf_get_kv_type.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_arr_type {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_arr_type", DESC);
    }

    /** {@code enum gguf_type gguf_get_arr_type(const struct gguf_context * ctx, int64_t key_id)}. */
    public static int gguf_get_arr_type(MemorySegment ctx, long keyId) {
        try {
            return (int) gguf_get_arr_type.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_u8 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BYTE, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_u8", DESC);
    }

    /** {@code uint8_t gguf_get_val_u8(const struct gguf_context * ctx, int64_t key_id)}. */
    public static byte gguf_get_val_u8(MemorySegment ctx, long keyId) {
        try {
            return (byte) gguf_get_val_u8.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_i8 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BYTE, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_i8", DESC);
    }

    /** {@code int8_t gguf_get_val_i8(const struct gguf_context * ctx, int64_t key_id)}. */
    public static byte gguf_get_val_i8(MemorySegment ctx, long keyId) {
        try {
            return (byte) gguf_get_val_i8.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_u16 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_SHORT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_u16", DESC);
    }

    /** {@code uint16_t gguf_get_val_u16(const struct gguf_context * ctx, int64_t key_id)}. */
    public static short gguf_get_val_u16(MemorySegment ctx, long keyId) {
        try {
            return (short) gguf_get_val_u16.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_i16 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_SHORT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_i16", DESC);
    }

    /** {@code int16_t gguf_get_val_i16(const struct gguf_context * ctx, int64_t key_id)}. */
    public static short gguf_get_val_i16(MemorySegment ctx, long keyId) {
        try {
            return (short) gguf_get_val_i16.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_u32", DESC);
    }

    /** {@code uint32_t gguf_get_val_u32(const struct gguf_context * ctx, int64_t key_id)}. */
    public static int gguf_get_val_u32(MemorySegment ctx, long keyId) {
        try {
            return (int) gguf_get_val_u32.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_i32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_i32", DESC);
    }

    /** {@code int32_t gguf_get_val_i32(const struct gguf_context * ctx, int64_t key_id)}. */
    public static int gguf_get_val_i32(MemorySegment ctx, long keyId) {
        try {
            return (int) gguf_get_val_i32.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_f32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_FLOAT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_f32", DESC);
    }

    /** {@code float gguf_get_val_f32(const struct gguf_context * ctx, int64_t key_id)}. */
    public static float gguf_get_val_f32(MemorySegment ctx, long keyId) {
        try {
            return (float) gguf_get_val_f32.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_u64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_u64", DESC);
    }

    /** {@code uint64_t gguf_get_val_u64(const struct gguf_context * ctx, int64_t key_id)}. */
    public static long gguf_get_val_u64(MemorySegment ctx, long keyId) {
        try {
            return (long) gguf_get_val_u64.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_i64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_i64", DESC);
    }

    /** {@code int64_t gguf_get_val_i64(const struct gguf_context * ctx, int64_t key_id)}. */
    public static long gguf_get_val_i64(MemorySegment ctx, long keyId) {
        try {
            return (long) gguf_get_val_i64.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_f64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_DOUBLE, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_f64", DESC);
    }

    /** {@code double gguf_get_val_f64(const struct gguf_context * ctx, int64_t key_id)}. */
    public static double gguf_get_val_f64(MemorySegment ctx, long keyId) {
        try {
            return (double) gguf_get_val_f64.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_bool {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_bool", DESC);
    }

    /** {@code bool gguf_get_val_bool(const struct gguf_context * ctx, int64_t key_id)}. */
    public static boolean gguf_get_val_bool(MemorySegment ctx, long keyId) {
        try {
            return (boolean) gguf_get_val_bool.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_val_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_val_str", DESC);
    }

    /** {@code const char * gguf_get_val_str(const struct gguf_context * ctx, int64_t key_id)}. */
    public static MemorySegment gguf_get_val_str(MemorySegment ctx, long keyId) {
        try {
            return (MemorySegment) gguf_get_val_str.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_arr_n {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_arr_n", DESC);
    }

    /** {@code size_t gguf_get_arr_n(const struct gguf_context * ctx, int64_t key_id)}. */
    public static long gguf_get_arr_n(MemorySegment ctx, long keyId) {
        try {
            return (long) gguf_get_arr_n.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_arr_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_arr_data", DESC);
    }

    /** {@code const void * gguf_get_arr_data(const struct gguf_context * ctx, int64_t key_id)}. */
    public static MemorySegment gguf_get_arr_data(MemorySegment ctx, long keyId) {
        try {
            return (MemorySegment) gguf_get_arr_data.HANDLE.invokeExact(ctx, keyId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_arr_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_arr_str", DESC);
    }

    /** {@code const char * gguf_get_arr_str(const struct gguf_context * ctx, int64_t key_id, size_t i)}. */
    public static MemorySegment gguf_get_arr_str(MemorySegment ctx, long keyId, long i) {
        try {
            return (MemorySegment) gguf_get_arr_str.HANDLE.invokeExact(ctx, keyId, i);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_n_tensors {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_n_tensors", DESC);
    }

    /** {@code int64_t gguf_get_n_tensors(const struct gguf_context * ctx)}. */
    public static long gguf_get_n_tensors(MemorySegment ctx) {
        try {
            return (long) gguf_get_n_tensors.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_find_tensor {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_find_tensor", DESC);
    }

    /** {@code int64_t gguf_find_tensor(const struct gguf_context * ctx, const char * name)}. */
    public static long gguf_find_tensor(MemorySegment ctx, MemorySegment name) {
        try {
            return (long) gguf_find_tensor.HANDLE.invokeExact(ctx, name);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_tensor_offset {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_tensor_offset", DESC);
    }

    /** {@code size_t gguf_get_tensor_offset(const struct gguf_context * ctx, int64_t tensor_id)}. */
    public static long gguf_get_tensor_offset(MemorySegment ctx, long tensorId) {
        try {
            return (long) gguf_get_tensor_offset.HANDLE.invokeExact(ctx, tensorId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_tensor_name {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_tensor_name", DESC);
    }

    /** {@code const char * gguf_get_tensor_name(const struct gguf_context * ctx, int64_t tensor_id)}. */
    public static MemorySegment gguf_get_tensor_name(MemorySegment ctx, long tensorId) {
        try {
            return (MemorySegment) gguf_get_tensor_name.HANDLE.invokeExact(ctx, tensorId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_tensor_ne {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_tensor_ne", DESC);
    }

    /** {@code const int64_t * gguf_get_tensor_ne(const struct gguf_context * ctx, int64_t tensor_id)}. */
    public static MemorySegment gguf_get_tensor_ne(MemorySegment ctx, long tensorId) {
        try {
            return (MemorySegment) gguf_get_tensor_ne.HANDLE.invokeExact(ctx, tensorId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_tensor_type {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_tensor_type", DESC);
    }

    /** {@code enum ggml_type gguf_get_tensor_type(const struct gguf_context * ctx, int64_t tensor_id)}. */
    public static int gguf_get_tensor_type(MemorySegment ctx, long tensorId) {
        try {
            return (int) gguf_get_tensor_type.HANDLE.invokeExact(ctx, tensorId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class gguf_get_tensor_size {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = LlamaLibrary.downcall("gguf_get_tensor_size", DESC);
    }

    /** {@code size_t gguf_get_tensor_size(const struct gguf_context * ctx, int64_t tensor_id)}. */
    public static long gguf_get_tensor_size(MemorySegment ctx, long tensorId) {
        try {
            return (long) gguf_get_tensor_size.HANDLE.invokeExact(ctx, tensorId);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
