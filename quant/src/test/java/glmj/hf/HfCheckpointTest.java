package glmj.hf;

import glmj.kernel.Fp8Rows;
import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.Fp8E4M3;
import glmj.testdata.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

class HfCheckpointTest {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final String FP8_CONFIG = """
            {"model_type": "glm_moe_dsa", "quantization_config": {"quant_method": "fp8", "fmt": "e4m3",
             "activation_scheme": "dynamic", "weight_block_size": [128, 128]}}""";

    @TempDir
    Path dir;

    @Test
    void fp8WeightsAreTheirE4M3ValuesTimesTheirBlocksScaleBitForBit() throws IOException {
        // 300 x 200: three block rows (the last of 44 rows) and two block columns (the last of 72 columns)
        int rows = 300;
        int columns = 200;
        byte[] codes = new byte[rows * columns];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) random.nextInt(256);
        }
        float[] scales = {0.0123f, -3.5e-5f, 7.25f, 1e-30f, 0x1p-9f, 0.5f};
        writeConfig(FP8_CONFIG);
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("w", "F8_E4M3", 1, rows, columns);
        w.add("w_scale_inv", "F32", 4, 3, 2);
        w.add("w.activation_scale", "F32", 4, 1);
        try (SafetensorsWriter.Output out = w.open(dir.resolve("model.safetensors"))) {
            MemorySegment.copy(codes, 0, out.segment("w"), ValueLayout.JAVA_BYTE, 0, codes.length);
            MemorySegment.copy(scales, 0, out.segment("w_scale_inv"), FLOAT, 0, scales.length);
        }
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            assertEquals(java.util.List.of("w"), java.util.List.copyOf(c.weights().keySet()), "scales are part of their weight");
            CheckpointTensor t = c.weights().get("w");
            assertTrue(t.isFp8());
            assertEquals(rows * columns + 6 * 4, t.storedBytes());
            float[] row = new float[columns];
            for (int r = 0; r < rows; r++) {
                t.read(r, 0, row, 0, columns);
                for (int col = 0; col < columns; col++) {
                    float expected = Fp8E4M3.toFloat(codes[r * columns + col]) * scales[r / 128 * 2 + col / 128];
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(row[col]), "row " + r + " column " + col);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(t.get(r, col)));
                }
            }
            // pieces of rows across a block edge, into the middle of an array: starting within a vector's width
            // (decoded block by block) and on one (in one pass)
            for (int[] piece : new int[][]{{299, 120, 70}, {299, 112, 88}, {130, 16, 175}}) {
                float[] values = new float[30 + piece[2]];
                t.read(piece[0], piece[1], values, 30, piece[2]);
                for (int i = 0; i < piece[2]; i++) {
                    assertEquals(Float.floatToRawIntBits(t.get(piece[0], piece[1] + i)), Float.floatToRawIntBits(values[30 + i]),
                            "row " + piece[0] + " column " + (piece[1] + i));
                }
            }
        }
    }

    @Test
    void vectorRunsEqualTheScalarDecodingForEveryByteAndEveryTail() {
        byte[] every = new byte[256 + 37];
        for (int i = 0; i < every.length; i++) {
            every[i] = (byte) (i * 7 + 3);
        }
        MemorySegment data = MemorySegment.ofArray(every);
        for (int count : new int[]{0, 1, 7, 8, 15, 16, 17, 31, 64, 255, 256, 293}) {
            float[] fp8 = new float[count + 3];
            Fp8Rows.decode(data, 0, -1.75f, fp8, 3, count);
            float[] bf16 = new float[count + 3];
            FloatRuns.bf16(data, 0, bf16, 3, count / 2);
            for (int i = 0; i < count; i++) {
                float expected = Fp8E4M3.toFloat(every[i]) * -1.75f;
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(fp8[3 + i]), "e4m3 byte " + i + " of " + count);
            }
            for (int i = 0; i < count / 2; i++) {
                float expected = FloatFormats.bf16ToF32(data.get(SHORT, 2L * i) & 0xFFFF);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(bf16[3 + i]), "bf16 " + i + " of " + count);
            }
        }
    }

    @Test
    void bf16F16F32AndE8M0TensorsReadExactly() throws IOException {
        writeConfig("{\"model_type\": \"glm_moe_dsa\"}");
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("a.bf16", "BF16", 2, 2, 3);
        w.add("a.f16", "F16", 2, 5);
        w.add("a.f32", "F32", 4, 1, 2, 2);
        w.add("a.e8m0", "F8_E8M0", 1, 3);
        try (SafetensorsWriter.Output out = w.open(dir.resolve("model.safetensors"))) {
            short[] bf16 = {0x3F80, (short) 0xBF00, 0x7F80, 0x0001, (short) 0x8000, 0x4049};
            MemorySegment.copy(bf16, 0, out.segment("a.bf16"), SHORT, 0, bf16.length);
            short[] f16 = {0x3C00, (short) 0xC000, 0x0001, 0x7C00, 0x7E01};
            MemorySegment.copy(f16, 0, out.segment("a.f16"), SHORT, 0, f16.length);
            float[] f32 = {1.5f, -0f, Float.MIN_VALUE, 3e38f};
            MemorySegment.copy(f32, 0, out.segment("a.f32"), FLOAT, 0, f32.length);
            MemorySegment.copy(new byte[]{0, 127, (byte) 200}, 0, out.segment("a.e8m0"), ValueLayout.JAVA_BYTE, 0, 3);
        }
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            assertNull(c.fp8());
            assertArrayEquals(new float[]{1f, -0.5f, Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x10000), -0f, 3.140625f},
                    read(c.weights().get("a.bf16")));
            float[] f16 = read(c.weights().get("a.f16"));
            assertArrayEquals(new float[]{1f, -2f, 0x1p-24f, Float.POSITIVE_INFINITY}, java.util.Arrays.copyOf(f16, 4));
            assertEquals(0x7FC02000, Float.floatToRawIntBits(f16[4]), "an F16 NaN keeps its payload, as PyTorch widens it");
            assertArrayEquals(new float[]{1.5f, -0f, Float.MIN_VALUE, 3e38f}, read(c.weights().get("a.f32")));
            assertEquals(2, c.weights().get("a.f32").rowCount(), "rows are the last dimension");
            assertArrayEquals(new float[]{0x1p-127f, 1f, 0x1p73f}, read(c.weights().get("a.e8m0")));
        }
    }

    @Test
    void powerOfTwoScalesAsE8M0OrCheckedF32() throws IOException {
        writeConfig(FP8_CONFIG.replace("\"fmt\": \"e4m3\"", "\"fmt\": \"e4m3\", \"scale_fmt\": \"ue8m0\""));
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("e", "F8_E4M3", 1, 2, 130);
        w.add("e_scale_inv", "F8_E8M0", 1, 1, 2);
        w.add("f", "F8_E4M3", 1, 2, 4);
        w.add("f_scale_inv", "F32", 4, 1, 1);
        try (SafetensorsWriter.Output out = w.open(dir.resolve("model.safetensors"))) {
            out.segment("e").fill((byte) 0x38); // 1.0
            MemorySegment.copy(new byte[]{(byte) 130, (byte) 120}, 0, out.segment("e_scale_inv"), ValueLayout.JAVA_BYTE, 0, 2);
            out.segment("f").fill((byte) 0x38);
            out.segment("f_scale_inv").set(FLOAT, 0, 0.3f);
        }
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            assertTrue(c.fp8().powerOfTwoScales());
            CheckpointTensor e = c.weights().get("e");
            assertEquals(8f, e.get(1, 127));
            assertEquals(0x1p-7f, e.get(1, 128));
            CheckpointFormatException bad = assertThrows(CheckpointFormatException.class, () -> c.weights().get("f").get(0, 0));
            assertEquals(dir.resolve("model.safetensors") + ": tensor 'f_scale_inv' holds 0.3 at block 0, 0, but quantization_config"
                    + " declares ue8m0 (power-of-two) scales", bad.getMessage());
        }
    }

    @Test
    void shardsAreReadThroughTheirIndexAndMustAgreeWithIt() throws IOException {
        writeConfig(FP8_CONFIG);
        twoShards("""
                {"metadata": {"total_size": 16}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00002-of-00002.safetensors"}}""");
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(c.weights().keySet()));
            assertEquals(2, c.files().size());
            assertEquals(16, c.storedBytes());
        }
        twoShards("""
                {"weight_map": {"a": "model-00002-of-00002.safetensors", "b": "model-00001-of-00002.safetensors"}}""");
        assertMessage(dir.resolve("model-00001-of-00002.safetensors") + ": tensor 'a' is in this file but "
                + "model.safetensors.index.json places it in model-00002-of-00002.safetensors");
        twoShards("""
                {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
                 "c": "model-00002-of-00002.safetensors"}}""");
        assertMessage(dir.resolve("model-00002-of-00002.safetensors") + ": tensor 'c' is missing, though "
                + "model.safetensors.index.json places it in this file");
        twoShards("""
                {"weight_map": {"a": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}""");
        assertMessage(dir.resolve("model-00002-of-00002.safetensors") + ": tensor 'b' is in this file but "
                + "model.safetensors.index.json does not list it");
        twoShards("""
                {"weight_map": {"a": "../model-00001-of-00002.safetensors"}}""");
        assertMessage(dir.resolve("model.safetensors.index.json") + ": weight_map places 'a' in "
                + "\"../model-00001-of-00002.safetensors\", not a file name of this directory");
        twoShards("""
                {"weight_map": {"a": "model-00003-of-00002.safetensors"}}""");
        assertThrows(NoSuchFileException.class, () -> HfCheckpoint.open(dir).close());
    }

    @Test
    void malformedFilesAreRefusedInOneLineNamingFileAndTensor() throws IOException {
        writeConfig(FP8_CONFIG);
        Path file = dir.resolve("model.safetensors");
        Files.write(file, new byte[5]);
        assertMessage(file + ": not a safetensors file: 5 bytes, too short for the header length");
        raw(file, 1L << 40, "{}");
        assertMessage(file + ": not a safetensors file: header length 1099511627776 is outside 2..100000000");
        raw(file, 500, "{}");
        assertMessage(file + ": truncated: the header needs 508 bytes, the file has 10");
        raw(file, -1, "{\"a\": ");
        assertTrue(message().startsWith(file + ": the header is not valid JSON: "));
        raw(file, -1, "{\"a\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8);
        assertMessage(file + ": tensor 'a' has dtype 'I64'; glmj reads F8_E4M3, F8_E8M0, BF16, F16 and F32");
        raw(file, -1, "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", 16);
        assertMessage(file + ": tensor 'a' is F32 [3], 12 bytes, but its data_offsets [0, 16] hold 16");
        raw(file, -1, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8);
        assertMessage(file + ": tensor 'a' has data_offsets [0, 16] past the end of the data (8 bytes)");
        raw(file, -1, "{\"a\": {\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]}}", 16);
        assertMessage(file + ": tensor 'a' has shape [-4], not non-negative integers");
        raw(file, -1, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12);
        assertMessage(file + ": tensors 'a' and 'b' overlap in the file");
        raw(file, -1, "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8);
        assertTrue(message().startsWith(file + ": the header is not valid JSON: Duplicate field 'a'"), message());
        raw(file, -1, "{\"a\\n\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4);
        assertMessage(file + ": tensor 'a\\x0a' has no data_offsets of 2 integers");
    }

    @Test
    void fp8WeightsNeedTheirScalesAndAnFp8Config() throws IOException {
        Path file = dir.resolve("model.safetensors");
        writeConfig(FP8_CONFIG);
        fp8File(file, w -> w.add("w_scale_inv", "F32", 4, 1, 2));
        assertMessage(file + ": tensor 'w_scale_inv' has shape [1, 2] but w [130, 10] needs [2, 1] scales of 128x128 blocks");
        fp8File(file, w -> { });
        assertMessage(file + ": tensor 'w' is F8_E4M3 but has no w_scale_inv");
        fp8File(file, w -> {
            w.add("w_scale_inv", "F32", 4, 2, 1);
            w.add("v_scale_inv", "F32", 4, 1);
        });
        assertMessage(file + ": tensor 'v_scale_inv' scales a weight 'v' that is not in the checkpoint");
        writeConfig("{\"model_type\": \"glm_moe_dsa\"}");
        fp8File(file, w -> w.add("w_scale_inv", "F32", 4, 2, 1));
        assertMessage(file + ": tensor 'w' is F8_E4M3, but config.json declares no fp8 quantization_config");
        writeConfig("{\"quantization_config\": {\"quant_method\": \"gptq\"}}");
        assertMessage(dir.resolve("config.json") + ": quantization_config has quant_method 'gptq'; glmj reads fp8 "
                + "(block-scaled E4M3, as GLM-5-FP8 and DeepSeek-V3) and unquantized checkpoints");
        writeConfig("{\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128]}}");
        assertMessage(dir.resolve("config.json") + ": quantization_config weight_block_size [128] is not two positive integers");
        writeConfig("{\"model_type\": ");
        assertTrue(message().startsWith(dir.resolve("config.json") + ": not valid JSON: "), message());
        Files.delete(dir.resolve("config.json"));
        assertEquals(dir + ": not a Hugging Face checkpoint: it has no config.json",
                assertThrows(CheckpointFormatException.class, () -> HfCheckpoint.open(dir).close()).getMessage());
        assertThrows(NoSuchFileException.class, () -> HfCheckpoint.open(dir.resolve("nowhere")).close());
        assertEquals(file + ": not a directory; a Hugging Face checkpoint is the directory holding config.json and the "
                + ".safetensors files", assertThrows(CheckpointFormatException.class, () -> HfCheckpoint.open(file).close()).getMessage());
    }

    private void fp8File(Path file, Consumer<SafetensorsWriter> more) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("w", "F8_E4M3", 1, 130, 10);
        more.accept(w);
        w.open(file).close();
    }

    private void twoShards(String index) throws IOException {
        SafetensorsWriter first = new SafetensorsWriter();
        first.add("a", "F32", 4, 2);
        first.open(dir.resolve("model-00001-of-00002.safetensors")).close();
        SafetensorsWriter second = new SafetensorsWriter();
        second.add("b", "BF16", 2, 4);
        second.open(dir.resolve("model-00002-of-00002.safetensors")).close();
        Files.writeString(dir.resolve("model.safetensors.index.json"), index);
    }

    /** A file of header length {@code length} (the JSON's own when negative), the header and {@code dataBytes} zeros. */
    private static void raw(Path file, long length, String header, int... dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int data = dataBytes.length > 0 ? dataBytes[0] : 0;
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(length < 0 ? json.length : length).put(json);
        Files.write(file, b.array());
    }

    private void writeConfig(String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
    }

    private String message() {
        return assertThrows(CheckpointFormatException.class, () -> HfCheckpoint.open(dir).close()).getMessage();
    }

    private void assertMessage(String expected) {
        assertEquals(expected, message());
    }

    private static float[] read(CheckpointTensor t) {
        float[] values = new float[(int) t.elementCount()];
        for (long r = 0; r < t.rowCount(); r++) {
            t.read(r, 0, values, (int) (r * t.rowLength()), (int) t.rowLength());
        }
        return values;
    }
}
