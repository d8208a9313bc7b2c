package glmj.gguf;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GGUFRoundTripTest {
    @TempDir
    Path dir;

    private static GGUFWriter everyValueType() {
        return new GGUFWriter()
                .putString("general.architecture", "glm-dsa")
                .put("u8", GGUFValueType.UINT8, 255)
                .put("i8", GGUFValueType.INT8, (byte) -128)
                .put("u16", GGUFValueType.UINT16, 65535)
                .put("i16", GGUFValueType.INT16, (short) -32768)
                .putUInt32("u32", 0xFFFF_FFFEL)
                .putInt32("i32", Integer.MIN_VALUE)
                .putFloat32("f32", 0.1f)
                .putBool("bool", true)
                .putString("str", "héllo ✓ 𝄞")
                .putUInt64("u64", -2L)
                .put("i64", GGUFValueType.INT64, Long.MIN_VALUE)
                .put("f64", GGUFValueType.FLOAT64, Math.PI)
                .putArray("arr.u8", GGUFValueType.UINT8, new byte[]{0, 1, (byte) 255})
                .putArray("arr.i8", GGUFValueType.INT8, new byte[]{-1, 2})
                .putArray("arr.u16", GGUFValueType.UINT16, new short[]{(short) 65535, 7})
                .putArray("arr.i16", GGUFValueType.INT16, new short[]{-3, 4})
                .putArray("arr.u32", GGUFValueType.UINT32, new int[]{1, 2, 3})
                .putArray("arr.i32", GGUFValueType.INT32, new int[]{-5, 6})
                .putArray("arr.f32", GGUFValueType.FLOAT32, new float[]{1.5f, -0f, Float.NaN, Float.MIN_VALUE})
                .putArray("arr.bool", GGUFValueType.BOOL, new boolean[]{true, false, true})
                .putArray("arr.str", GGUFValueType.STRING, new String[]{"a", "", "ü\u0000z"})
                .putArray("arr.u64", GGUFValueType.UINT64, new long[]{-1L, 9})
                .putArray("arr.i64", GGUFValueType.INT64, new long[]{Long.MAX_VALUE, -9})
                .putArray("arr.f64", GGUFValueType.FLOAT64, new double[]{2.25, -1e300})
                .putArray("arr.empty", GGUFValueType.INT32, new int[0]);
    }

    @Test
    void everyValueTypeRoundTrips() throws IOException {
        Path file = dir.resolve("values.gguf");
        everyValueType().write(file);
        try (GGUFFile gguf = GGUFFile.open(file)) {
            Metadata m = gguf.metadata();
            assertEquals(3, gguf.version());
            assertEquals(List.of("general.architecture", "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str",
                    "u64", "i64", "f64", "arr.u8", "arr.i8", "arr.u16", "arr.i16", "arr.u32", "arr.i32", "arr.f32",
                    "arr.bool", "arr.str", "arr.u64", "arr.i64", "arr.f64", "arr.empty"), List.copyOf(m.keys()));

            assertEquals(GGUFValueType.UINT8, m.type("u8"));
            assertEquals((byte) -1, m.get("u8"));
            assertEquals(255, m.getInt("u8"));
            assertEquals(-128, m.getInt("i8"));
            assertEquals(65535, m.getInt("u16"));
            assertEquals(-32768, m.getInt("i16"));
            assertEquals(0xFFFF_FFFEL, m.getLong("u32"));
            assertEquals(Integer.MIN_VALUE, m.getInt("i32"));
            assertEquals(0.1f, m.getFloat("f32"));
            assertTrue(m.getBoolean("bool"));
            assertEquals("héllo ✓ 𝄞", m.getString("str"));
            assertEquals(-2L, m.get("u64"));
            assertEquals(Long.MIN_VALUE, m.getLong("i64"));
            assertEquals(Math.PI, (Double) m.get("f64"));
            assertEquals((float) Math.PI, m.getFloat("f64"));

            assertEquals(GGUFValueType.ARRAY, m.type("arr.u8"));
            assertEquals(GGUFValueType.UINT8, m.arrayElementType("arr.u8"));
            assertArrayEquals(new byte[]{0, 1, (byte) 255}, (byte[]) m.get("arr.u8"));
            assertArrayEquals(new int[]{0, 1, 255}, m.getIntArray("arr.u8"));
            assertArrayEquals(new int[]{-1, 2}, m.getIntArray("arr.i8"));
            assertArrayEquals(new int[]{65535, 7}, m.getIntArray("arr.u16"));
            assertArrayEquals(new int[]{-3, 4}, m.getIntArray("arr.i16"));
            assertArrayEquals(new int[]{1, 2, 3}, m.getIntArray("arr.u32"));
            assertArrayEquals(new int[]{-5, 6}, m.getIntArray("arr.i32"));
            float[] floats = m.getFloatArray("arr.f32");
            assertEquals(4, floats.length);
            assertEquals(1.5f, floats[0]);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(floats[1]));
            assertTrue(Float.isNaN(floats[2]));
            assertEquals(Float.MIN_VALUE, floats[3]);
            assertArrayEquals(new boolean[]{true, false, true}, (boolean[]) m.get("arr.bool"));
            assertArrayEquals(new String[]{"a", "", "ü\u0000z"}, m.getStringArray("arr.str"));
            assertArrayEquals(new long[]{-1L, 9}, (long[]) m.get("arr.u64"));
            assertArrayEquals(new long[]{Long.MAX_VALUE, -9}, (long[]) m.get("arr.i64"));
            assertArrayEquals(new double[]{2.25, -1e300}, (double[]) m.get("arr.f64"));
            assertArrayEquals(new float[]{2.25f, Float.NEGATIVE_INFINITY}, m.getFloatArray("arr.f64"));
            assertEquals(0, m.getIntArray("arr.empty").length);

            ((byte[]) m.get("arr.u8"))[0] = 42;
            assertEquals(0, ((byte[]) m.get("arr.u8"))[0], "get returns a copy");
            assertTrue(gguf.tensors().isEmpty());
        }
    }

    @Test
    void producedTensorsAreWrittenInPlaceBetweenStoredOnes() throws IOException {
        Path file = dir.resolve("produced.gguf");
        float[] stored = {1.5f, -2f, 3.25f};
        List<String> filled = new java.util.ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            new GGUFWriter()
                    .putString("general.architecture", "glm-dsa")
                    .addTensor("first", GGMLType.F32, new long[]{3}, MemorySegment.ofArray(stored))
                    .addTensor("made", GGMLType.F32, new long[]{5, 2}, target -> {
                        filled.add("made:" + target.byteSize());
                        for (int i = 0; i < 10; i++) {
                            target.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, i * 0.5f);
                        }
                    })
                    .addTensor("empty", GGMLType.F32, new long[]{0}, target -> filled.add("empty:" + target.byteSize()))
                    .addTensor("last", GGMLType.F32, new long[]{3}, arena.allocateFrom(ValueLayout.JAVA_FLOAT, stored))
                    .write(file);
        }
        assertEquals(List.of("made:40"), filled, "a producer fills its tensor's region; an empty tensor needs none");
        try (GGUFFile gguf = GGUFFile.open(file)) {
            assertArrayEquals(stored, GGMLType.F32.dequantizeAll(gguf.tensor("first").data(), 3));
            float[] made = GGMLType.F32.dequantizeAll(gguf.tensor("made").data(), 10);
            for (int i = 0; i < 10; i++) {
                assertEquals(i * 0.5f, made[i]);
            }
            assertEquals(0, gguf.tensor("empty").byteSize());
            assertArrayEquals(stored, GGMLType.F32.dequantizeAll(gguf.tensor("last").data(), 3));
        }
    }

    @Test
    void aFailingProducerLeavesNoFile() {
        Path file = dir.resolve("failed.gguf");
        GGUFWriter writer = new GGUFWriter().addTensor("t", GGMLType.F32, new long[]{4}, target -> {
            throw new IOException("source gone");
        });
        IOException e = assertThrows(IOException.class, () -> writer.write(file));
        assertEquals("source gone", e.getMessage());
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("failed.gguf.tmp")));
    }

    @Test
    void typedGettersRefuseMissingKeysAndWrongTypesNamingKeyAndFile() throws IOException {
        Path file = dir.resolve("getters.gguf");
        everyValueType().write(file);
        try (GGUFFile gguf = GGUFFile.open(file)) {
            Metadata m = gguf.metadata();
            assertMessage(file + ": missing key 'nope'", () -> m.getInt("nope"));
            assertMessage(file + ": key 'str' is str, expected an integer", () -> m.getInt("str"));
            assertMessage(file + ": key 'u32' has value 4294967294 which does not fit an int", () -> m.getInt("u32"));
            assertMessage(file + ": key 'u64' has value 18446744073709551614 which does not fit a long", () -> m.getLong("u64"));
            assertMessage(file + ": key 'i32' is i32, expected str", () -> m.getString("i32"));
            assertMessage(file + ": key 'i32' is i32, expected f32 or f64", () -> m.getFloat("i32"));
            assertMessage(file + ": key 'u8' is u8, expected bool", () -> m.getBoolean("u8"));
            assertMessage(file + ": key 'arr.u32' is arr[u32], expected arr[str]", () -> m.getStringArray("arr.u32"));
            assertMessage(file + ": key 'arr.str' is arr[str], expected an integer array", () -> m.getIntArray("arr.str"));
            assertMessage(file + ": key 'arr.u64' element 0 has value 18446744073709551615 which does not fit an int",
                    () -> m.getIntArray("arr.u64"));
            assertMessage(file + ": key 'arr.i32' is arr[i32], expected arr[f32] or arr[f64]", () -> m.getFloatArray("arr.i32"));
            assertMessage(file + ": key 'u8' is u8, expected an array", () -> m.arrayElementType("u8"));
            assertMessage(file + ": no tensor named 'missing.weight'", () -> gguf.tensor("missing.weight"));

            assertEquals(7, m.getInt("nope", 7));
            assertEquals(255, m.getInt("u8", 7));
            assertEquals(2.5f, m.getFloat("nope", 2.5f));
            assertEquals("d", m.getString("nope", "d"));
            assertEquals("glm-dsa", m.getString("general.architecture", "d"));
            assertFalse(m.getBoolean("nope", false));
            assertTrue(m.getBoolean("bool", false));
            assertThrows(GGUFFormatException.class, () -> m.getInt("str", 7), "a present key of the wrong type is an error");
        }
    }

    @Test
    void writerRefusesValuesThatDoNotFitTheirType() {
        GGUFWriter w = new GGUFWriter();
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GGUFValueType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GGUFValueType.INT16, 40000));
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("k", -1));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GGUFValueType.STRING, 3));
        assertThrows(IllegalArgumentException.class, () -> w.putArray("k", GGUFValueType.UINT32, new long[1]));
        assertThrows(IllegalArgumentException.class, () -> w.putArray("k", GGUFValueType.ARRAY, new int[1]));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GGUFValueType.UINT64, 32L));
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("general.alignment", 48));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GGMLType.F32, new long[]{4}, MemorySegment.ofArray(new byte[15])));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GGMLType.Q8_0, new long[]{16}, MemorySegment.ofArray(new byte[17])));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x".repeat(64), GGMLType.I8, new long[]{1}, MemorySegment.ofArray(new byte[1])));
        w.addTensor("t", GGMLType.I8, new long[]{1}, MemorySegment.ofArray(new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GGMLType.I8, new long[]{1}, MemorySegment.ofArray(new byte[1])));
        assertFalse(w.has("k"), "refused values are not stored");
    }

    @Test
    void removeAndOverrideKeepOrder() throws IOException {
        Path file = dir.resolve("edit.gguf");
        new GGUFWriter().putString("a", "1").putString("b", "2").putString("c", "3")
                .remove("b").putInt32("a", 5).write(file);
        try (GGUFFile gguf = GGUFFile.open(file)) {
            assertEquals(List.of("a", "c"), List.copyOf(gguf.metadata().keys()));
            assertEquals(5, gguf.metadata().getInt("a"));
        }
    }

    /** Random bytes of exactly the size {@code type} needs for {@code shape}. */
    static MemorySegment randomData(GGMLType type, long[] shape, Random random) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        byte[] bytes = new byte[(int) type.byteSize(count)];
        random.nextBytes(bytes);
        return MemorySegment.ofArray(bytes);
    }

    @Test
    void tensorsOfSeveralTypesRoundTripWithAlignedData() throws IOException {
        Random random = new Random(1);
        Object[][] specs = {
                {"f32", GGMLType.F32, new long[]{3, 5}},
                {"f16", GGMLType.F16, new long[]{7}},
                {"q8_0", GGMLType.Q8_0, new long[]{64, 3}},
                {"q4_k", GGMLType.Q4_K, new long[]{256, 2, 2}},
                {"iq4_xs", GGMLType.IQ4_XS, new long[]{256, 1, 1, 3}},
                {"i8.empty", GGMLType.I8, new long[]{0, 4}},
                {"bf16", GGMLType.BF16, new long[]{1}},
        };
        for (long alignment : new long[]{32, 64, 4096}) {
            Path file = dir.resolve("tensors-" + alignment + ".gguf");
            GGUFWriter writer = new GGUFWriter().putString("general.name", "t");
            if (alignment != 32) {
                writer.putUInt32("general.alignment", alignment);
            }
            java.util.Map<String, MemorySegment> written = new java.util.HashMap<>();
            for (Object[] s : specs) {
                MemorySegment data = randomData((GGMLType) s[1], (long[]) s[2], random);
                written.put((String) s[0], data);
                writer.addTensor((String) s[0], (GGMLType) s[1], (long[]) s[2], data);
            }
            // a native segment as tensor data, as the quantizers will hand over
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment nativeData = arena.allocate(4 * 10);
                for (int i = 0; i < 10; i++) {
                    nativeData.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, i * 0.5f);
                }
                writer.addTensor("native", GGMLType.F32, new long[]{10}, nativeData);
                writer.write(file);
            }

            try (GGUFFile gguf = GGUFFile.open(file)) {
                assertEquals(alignment, gguf.alignment());
                assertEquals(0, gguf.dataOffset() % alignment);
                assertEquals(specs.length + 1, gguf.tensors().size());
                long total = 0;
                for (int i = 0; i < specs.length; i++) {
                    TensorInfo t = gguf.tensors().get(i);
                    long[] shape = (long[]) specs[i][2];
                    assertEquals(specs[i][0], t.name());
                    assertEquals(specs[i][1], t.type());
                    assertArrayEquals(shape, t.shape());
                    assertEquals(shape[0], t.rowLength());
                    long rows = 1;
                    for (int d = 1; d < shape.length; d++) {
                        rows *= shape[d];
                    }
                    assertEquals(rows, t.rowCount());
                    assertEquals(0, t.fileOffset() % alignment, t.name());
                    assertEquals(file, t.shard());
                    assertTrue(t.data().isReadOnly());
                    assertTrue(t.data().isMapped());
                    total += t.byteSize();
                    assertEquals(-1, t.data().mismatch(written.get(t.name())), t.name());
                    assertEquals(-1, readFile(file, t.fileOffset(), t.byteSize()).mismatch(t.data()), "fileOffset of " + t.name());
                }
                TensorInfo nat = gguf.tensor("native");
                assertEquals(4.5f, nat.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 9));
                total += nat.byteSize();
                assertEquals(total, gguf.totalTensorBytes());
                assertEquals(3 * 136, gguf.tensor("iq4_xs").byteSize());
                assertEquals(gguf.findTensor("f16"), java.util.Optional.of(gguf.tensor("f16")));
                assertTrue(gguf.findTensor("nope").isEmpty());
            }
        }
    }

    private static MemorySegment readFile(Path file, long offset, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate((int) size);
            ch.read(b, offset);
            return MemorySegment.ofArray(b.array());
        }
    }

    @Test
    void closeReleasesTheMapping() throws IOException {
        Path file = dir.resolve("close.gguf");
        new GGUFWriter().addTensor("t", GGMLType.I8, new long[]{4}, MemorySegment.ofArray(new byte[]{1, 2, 3, 4})).write(file);
        GGUFFile gguf = GGUFFile.open(file);
        MemorySegment data = gguf.tensor("t").data();
        assertEquals(3, data.get(ValueLayout.JAVA_BYTE, 2));
        gguf.close();
        gguf.close();
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_BYTE, 2));
    }

    @Test
    void versionTwoIsReadAndVersionOneIsRefused() throws IOException {
        Path file = dir.resolve("v2.gguf");
        everyValueType().addTensor("t", GGMLType.F32, new long[]{2}, MemorySegment.ofArray(new float[]{1, 2})).write(file);
        byte[] bytes = Files.readAllBytes(file);
        bytes[4] = 2;
        Files.write(file, bytes);
        try (GGUFFile gguf = GGUFFile.open(file)) {
            assertEquals(2, gguf.version());
            assertEquals("glm-dsa", gguf.metadata().getString("general.architecture"));
            assertEquals(2f, gguf.tensor("t").data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1));
        }
        bytes[4] = 1;
        Files.write(file, bytes);
        assertMessage(file + ": GGUF version 1 is no longer supported; convert the file with a current llama.cpp (at byte 4)",
                () -> GGUFFile.open(file));
        bytes[4] = 0;
        bytes[7] = 3;
        Files.write(file, bytes);
        assertMessage(file + ": GGUF version 0x3000000 looks byte-swapped; big-endian GGUF files are not supported (at byte 4)",
                () -> GGUFFile.open(file));
    }

    @Test
    void copyOfRewritesTheSameFile() throws IOException {
        Path file = dir.resolve("copy-src.gguf");
        Random random = new Random(2);
        everyValueType().addTensor("a", GGMLType.Q8_0, new long[]{32, 2}, randomData(GGMLType.Q8_0, new long[]{32, 2}, random))
                .addTensor("b", GGMLType.F16, new long[]{5}, randomData(GGMLType.F16, new long[]{5}, random))
                .write(file);
        Path copy = dir.resolve("copy.gguf");
        try (GGUFFile gguf = GGUFFile.open(file)) {
            GGUFWriter.copyOf(gguf).write(copy);
        }
        assertEquals(-1, Files.mismatch(file, copy), "copyOf then write reproduces the file byte for byte");
        // overwriting the very file that is mapped for reading works, since the writer replaces it
        try (GGUFFile gguf = GGUFFile.open(file)) {
            GGUFWriter.copyOf(gguf).putString("extra", "x").write(file);
            assertEquals(-1, readFile(copy, gguf.tensor("b").fileOffset(), 10).mismatch(gguf.tensor("b").data()));
        }
        try (GGUFFile gguf = GGUFFile.open(file)) {
            assertEquals("x", gguf.metadata().getString("extra"));
        }
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable action) {
        GGUFFormatException e = assertThrows(GGUFFormatException.class, action);
        assertEquals(expected, e.getMessage());
    }
}
