package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Files written by {@link GGUFWriter} are read by llama.cpp's own {@code gguf_init_from_file} with the same
 * version, alignment, data offset, keys, value types, values, tensor names, types, shapes, offsets and sizes.
 */
class GgufWriterMatchesLlamaTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void librariesPresent() {
        Oracle.library();
    }

    private static GGUFWriter everything() {
        Random random = new Random(11);
        GGUFWriter writer = new GGUFWriter()
                .putString("general.architecture", "glm-dsa")
                .putUInt32("general.alignment", 64)
                .put("u8", GGUFValueType.UINT8, 200)
                .put("i8", GGUFValueType.INT8, -100)
                .put("u16", GGUFValueType.UINT16, 60000)
                .put("i16", GGUFValueType.INT16, -30000)
                .putUInt32("u32", 4_000_000_000L)
                .putInt32("i32", -2_000_000_000)
                .putFloat32("f32", 0.1f)
                .putBool("bool", true)
                .putString("str", "héllo ✓")
                .putUInt64("u64", -5L)
                .put("i64", GGUFValueType.INT64, Long.MIN_VALUE + 1)
                .put("f64", GGUFValueType.FLOAT64, Math.E)
                .putArray("arr.u8", GGUFValueType.UINT8, new byte[]{1, (byte) 250})
                .putArray("arr.i16", GGUFValueType.INT16, new short[]{-7, 7})
                .putArray("arr.i32", GGUFValueType.INT32, new int[]{1, -2, 3})
                .putArray("arr.f32", GGUFValueType.FLOAT32, new float[]{0.5f, -1.25f})
                .putArray("arr.bool", GGUFValueType.BOOL, new boolean[]{false, true})
                .putArray("arr.u64", GGUFValueType.UINT64, new long[]{-1L, 3})
                .putArray("arr.f64", GGUFValueType.FLOAT64, new double[]{1e-300})
                .putArray("arr.str", GGUFValueType.STRING, new String[]{"<s>", "", "ü"})
                .putArray("arr.empty", GGUFValueType.INT32, new int[0]);
        Object[][] tensors = {
                {"token_embd.weight", GGMLType.Q8_0, new long[]{64, 3}},
                {"blk.0.attn_q.weight", GGMLType.Q4_K, new long[]{256, 2}},
                {"blk.0.attn_norm.weight", GGMLType.F32, new long[]{7}},
                {"blk.0.ffn_up.weight", GGMLType.F16, new long[]{5, 2, 3}},
                {"blk.0.ffn_down.weight", GGMLType.IQ4_XS, new long[]{256, 1, 1, 2}},
                {"output.weight", GGMLType.BF16, new long[]{3}},
        };
        for (Object[] t : tensors) {
            GGMLType type = (GGMLType) t[1];
            long[] shape = (long[]) t[2];
            long count = 1;
            for (long d : shape) {
                count *= d;
            }
            byte[] data = new byte[(int) type.byteSize(count)];
            random.nextBytes(data);
            writer.addTensor((String) t[0], type, shape, MemorySegment.ofArray(data));
        }
        return writer;
    }

    @Test
    void llamaReadsOurFileAsWeDo() throws IOException {
        Path file = dir.resolve("ours.gguf");
        everything().write(file);
        try (GGUFFile ours = GGUFFile.open(file)) {
            withLlama(file, ctx -> {
                assertEquals(ours.dataOffset(), Gguf.gguf_get_data_offset(ctx));
                assertMetadataAgrees(ctx, ours.metadata());
                assertTensorsAgree(ctx, ours.tensors());
            });
        }
    }

    @Test
    void llamaReadsEveryShardOfOurSplit() throws IOException {
        List<Path> shards = everything().writeSplit(dir, "split", 4);
        assertEquals(2, shards.size());
        try (GGUFFile ours = GGUFFile.open(shards.getLast())) {
            for (int no = 0; no < shards.size(); no++) {
                Path shard = shards.get(no);
                int splitNo = no;
                withLlama(shard, ctx -> {
                    if (splitNo == 0) {
                        assertMetadataAgrees(ctx, ours.metadata());
                    } else {
                        assertEquals(4, Gguf.gguf_get_n_kv(ctx), "later shards hold the alignment and the split keys only");
                        assertEquals(64, Gguf.gguf_get_val_u32(ctx, key(ctx, "general.alignment", GGUFValueType.UINT32)));
                    }
                    assertEquals(splitNo, Gguf.gguf_get_val_u16(ctx, key(ctx, "split.no", GGUFValueType.UINT16)));
                    assertEquals(2, Gguf.gguf_get_val_u16(ctx, key(ctx, "split.count", GGUFValueType.UINT16)));
                    assertEquals(6, Gguf.gguf_get_val_i32(ctx, key(ctx, "split.tensors.count", GGUFValueType.INT32)));
                    assertTensorsAgree(ctx, ours.tensors().stream().filter(t -> t.shard().equals(shard)).toList());
                });
            }
        }
    }

    private interface LlamaCheck {
        void check(MemorySegment ctx);
    }

    /** Opens {@code file} with gguf_init_from_file (no tensor data loaded) and runs the checks on the context. */
    private static void withLlama(Path file, LlamaCheck checks) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(Gguf.gguf_init_params.layout());
            Gguf.gguf_init_params.no_alloc(params, true);
            Gguf.gguf_init_params.ctx(params, MemorySegment.NULL);
            MemorySegment ctx = Gguf.gguf_init_from_file(arena.allocateFrom(file.toString()), params);
            assertNotEquals(MemorySegment.NULL, ctx, "llama.cpp refused " + file);
            try {
                assertEquals(3, Gguf.gguf_get_version(ctx));
                assertEquals(64, Gguf.gguf_get_alignment(ctx));
                checks.check(ctx);
            } finally {
                Gguf.gguf_free(ctx);
            }
        }
    }

    private static long key(MemorySegment ctx, String key, GGUFValueType type) {
        try (Arena arena = Arena.ofConfined()) {
            long id = Gguf.gguf_find_key(ctx, arena.allocateFrom(key));
            assertTrue(id >= 0, "llama.cpp does not find " + key);
            assertEquals(type.id, Gguf.gguf_get_kv_type(ctx, id), key);
            return id;
        }
    }

    private static void assertMetadataAgrees(MemorySegment ctx, Metadata m) {
        List<String> keys = List.copyOf(m.keys());
        assertEquals(keys.size(), Gguf.gguf_get_n_kv(ctx));
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            assertEquals(key, string(Gguf.gguf_get_key(ctx, i)));
            assertEquals(i, key(ctx, key, m.type(key)));
            if (m.type(key) == GGUFValueType.ARRAY) {
                assertArrayAgrees(ctx, i, key, m);
            } else {
                assertScalarAgrees(ctx, i, key, m);
            }
        }
    }

    /** Same names, types, shapes and sizes, and llama's data offset plus tensor offset is our file offset. */
    private static void assertTensorsAgree(MemorySegment ctx, List<TensorInfo> tensors) {
        assertEquals(tensors.size(), Gguf.gguf_get_n_tensors(ctx));
        long dataOffset = Gguf.gguf_get_data_offset(ctx);
        for (int i = 0; i < tensors.size(); i++) {
            TensorInfo t = tensors.get(i);
            assertEquals(t.name(), string(Gguf.gguf_get_tensor_name(ctx, i)));
            assertEquals(t.type().id, Gguf.gguf_get_tensor_type(ctx, i), t.name());
            assertEquals(t.fileOffset(), dataOffset + Gguf.gguf_get_tensor_offset(ctx, i), t.name());
            assertEquals(t.byteSize(), Gguf.gguf_get_tensor_size(ctx, i), t.name());
            MemorySegment ne = Gguf.gguf_get_tensor_ne(ctx, i).reinterpret(4 * Long.BYTES);
            for (int d = 0; d < 4; d++) {
                assertEquals(t.dim(d), ne.getAtIndex(ValueLayout.JAVA_LONG, d), t.name() + " ne[" + d + "]");
            }
        }
    }

    private static void assertScalarAgrees(MemorySegment ctx, long id, String key, Metadata m) {
        Object ours = m.get(key);
        Object theirs = switch (m.type(key)) {
            case UINT8 -> Gguf.gguf_get_val_u8(ctx, id);
            case INT8 -> Gguf.gguf_get_val_i8(ctx, id);
            case UINT16 -> Gguf.gguf_get_val_u16(ctx, id);
            case INT16 -> Gguf.gguf_get_val_i16(ctx, id);
            case UINT32 -> Gguf.gguf_get_val_u32(ctx, id);
            case INT32 -> Gguf.gguf_get_val_i32(ctx, id);
            case FLOAT32 -> Gguf.gguf_get_val_f32(ctx, id);
            case UINT64 -> Gguf.gguf_get_val_u64(ctx, id);
            case INT64 -> Gguf.gguf_get_val_i64(ctx, id);
            case FLOAT64 -> Gguf.gguf_get_val_f64(ctx, id);
            case BOOL -> Gguf.gguf_get_val_bool(ctx, id);
            case STRING -> string(Gguf.gguf_get_val_str(ctx, id));
            case ARRAY -> fail("not a scalar: " + key);
        };
        assertEquals(ours, theirs, key);
    }

    private static void assertArrayAgrees(MemorySegment ctx, long id, String key, Metadata m) {
        GGUFValueType element = m.arrayElementType(key);
        assertEquals(element.id, Gguf.gguf_get_arr_type(ctx, id), key);
        Object ours = m.get(key);
        int length = java.lang.reflect.Array.getLength(ours);
        assertEquals(length, Gguf.gguf_get_arr_n(ctx, id), key);
        if (element == GGUFValueType.STRING) {
            String[] strings = (String[]) ours;
            for (int i = 0; i < length; i++) {
                assertEquals(strings[i], string(Gguf.gguf_get_arr_str(ctx, id, i)), key + "[" + i + "]");
            }
            return;
        }
        MemorySegment theirs = Gguf.gguf_get_arr_data(ctx, id).reinterpret((long) length * element.size);
        MemorySegment expected = switch (ours) {
            case byte[] a -> MemorySegment.ofArray(a);
            case short[] a -> MemorySegment.ofArray(a);
            case int[] a -> MemorySegment.ofArray(a);
            case long[] a -> MemorySegment.ofArray(a);
            case float[] a -> MemorySegment.ofArray(a);
            case double[] a -> MemorySegment.ofArray(a);
            case boolean[] a -> {
                byte[] bytes = new byte[a.length];
                for (int i = 0; i < a.length; i++) {
                    bytes[i] = (byte) (a[i] ? 1 : 0);
                }
                yield MemorySegment.ofArray(bytes);
            }
            default -> throw new AssertionError("unexpected array " + ours.getClass());
        };
        assertEquals(-1, expected.mismatch(theirs), key);
    }

    private static String string(MemorySegment cString) {
        return cString.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
