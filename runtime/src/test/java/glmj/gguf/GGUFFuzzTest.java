package glmj.gguf;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Truncated and corrupted variants of a valid file: each either opens (and then every value and every tensor byte
 * range is readable) or is refused with a one-line GGUFFormatException; nothing else may escape.
 */
class GGUFFuzzTest {
    private static final int FLIP_VARIANTS = 3000;
    private static final byte[] INTERESTING = {0, (byte) 0xFF, 0x7F, (byte) 0x80, 1, 4, 9, 12, 13, 64};

    @TempDir
    Path dir;

    private byte[] validFile() throws IOException {
        Random random = new Random(7);
        Path file = dir.resolve("base.gguf");
        new GGUFWriter()
                .putString("general.architecture", "glm-dsa")
                .putUInt32("glm-dsa.block_count", 2)
                .putFloat32("glm-dsa.rope.freq_base", 10000f)
                .putBool("flag", true)
                .put("f64", GGUFValueType.FLOAT64, 0.5)
                .putUInt64("u64", 12)
                .putArray("tokenizer.ggml.tokens", GGUFValueType.STRING, new String[]{"<s>", "a", "bc", "✓"})
                .putArray("tokenizer.ggml.token_type", GGUFValueType.INT32, new int[]{3, 1, 1, 1})
                .putArray("scores", GGUFValueType.FLOAT32, new float[]{0f, -1f, -2f, -3f})
                .putArray("mask", GGUFValueType.BOOL, new boolean[]{true, false})
                .putArray("bytes", GGUFValueType.UINT8, new byte[]{1, 2, 3})
                .putArray("shorts", GGUFValueType.INT16, new short[]{-1})
                .putArray("longs", GGUFValueType.INT64, new long[]{5})
                .putArray("doubles", GGUFValueType.FLOAT64, new double[]{1.25})
                .addTensor("a.weight", GGMLType.Q8_0, new long[]{32, 2}, GGUFRoundTripTest.randomData(GGMLType.Q8_0, new long[]{32, 2}, random))
                .addTensor("b.weight", GGMLType.F16, new long[]{3, 3}, GGUFRoundTripTest.randomData(GGMLType.F16, new long[]{3, 3}, random))
                .addTensor("c.weight", GGMLType.F32, new long[]{8, 2}, GGUFRoundTripTest.randomData(GGMLType.F32, new long[]{8, 2}, random))
                .write(file);
        return Files.readAllBytes(file);
    }

    /** Opens a variant; returns true when it opened, after touching everything it exposes. */
    private static boolean openAndTouch(Path file, String variant) {
        try (GGUFFile gguf = GGUFFile.open(file)) {
            Metadata m = gguf.metadata();
            for (String key : m.keys()) {
                assertNotNull(m.get(key));
            }
            for (TensorInfo t : gguf.tensors()) {
                MemorySegment data = t.data();
                assertEquals(t.byteSize(), data.byteSize(), variant);
                if (data.byteSize() > 0) {
                    data.get(ValueLayout.JAVA_BYTE, 0);
                    data.get(ValueLayout.JAVA_BYTE, data.byteSize() - 1);
                }
                assertEquals(t.fileOffset() % gguf.alignment(), 0, variant);
            }
            return true;
        } catch (GGUFFormatException e) {
            assertTrue(e.getMessage().startsWith(file + ": "), variant + ": " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), variant + ": " + e.getMessage());
            return false;
        } catch (IOException e) {
            return false;
        } catch (Throwable t) {
            throw new AssertionError(variant + " escaped with " + t, t);
        }
    }

    @Test
    void everyTruncationIsRefused() throws IOException {
        byte[] valid = validFile();
        // the last tensor (64 bytes) ends the file, so any shorter file is missing data
        assertEquals(0, valid.length % 32);
        Path file = dir.resolve("truncated.gguf");
        Files.write(file, valid);
        assertTrue(openAndTouch(file, "the valid file"));
        for (int length = 0; length < valid.length; length++) {
            Files.write(file, Arrays.copyOf(valid, length));
            assertFalse(openAndTouch(file, "truncated to " + length), "truncated to " + length + " bytes opened");
        }
    }

    @Test
    void corruptedBytesNeverEscapeAsOtherExceptions() throws IOException {
        byte[] valid = validFile();
        int headerEnd;
        Path base = dir.resolve("base.gguf");
        try (GGUFFile gguf = GGUFFile.open(base)) {
            headerEnd = (int) gguf.dataOffset();
        }
        Random random = new Random(20240601);
        Path file = dir.resolve("corrupt.gguf");
        int opened = 0;
        for (int variant = 0; variant < FLIP_VARIANTS; variant++) {
            byte[] bytes = valid.clone();
            int flips = 1 + random.nextInt(4);
            StringBuilder what = new StringBuilder("variant " + variant + ":");
            for (int f = 0; f < flips; f++) {
                // mostly the header, where lengths, counts and ids live
                int at = random.nextInt(10) < 9 ? random.nextInt(headerEnd) : random.nextInt(bytes.length);
                bytes[at] = random.nextBoolean() ? INTERESTING[random.nextInt(INTERESTING.length)] : (byte) random.nextInt(256);
                what.append(' ').append(at).append('=').append(bytes[at] & 0xFF);
            }
            if (random.nextInt(8) == 0) {
                bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 64));
                what.append(" length=").append(bytes.length);
            }
            Files.write(file, bytes);
            if (openAndTouch(file, what.toString())) {
                opened++;
            }
        }
        // flips inside string contents, float values and tensor data leave a valid file: both outcomes happen
        assertTrue(opened > 100 && opened < FLIP_VARIANTS - 100, opened + " of " + FLIP_VARIANTS + " variants opened");
    }
}
