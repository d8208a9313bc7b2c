package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFFormatException;
import glmj.gguf.GGUFWriter;
import glmj.tensor.GGMLType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tensor data laid out other than one tensor after another, each padded to the alignment, is refused by glmj's reader
 * exactly when llama.cpp's {@code gguf_init_from_file} refuses it: overlapping tensors, a tensor whose type was changed
 * (its data no longer fits, or leaves a gap), misaligned and reordered offsets.
 */
class GgufLayoutMatchesLlamaTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void librariesPresent() {
        Oracle.library();
    }

    /** Three tensors: a and b (f32, 16 weights, 64 bytes) at 0 and 64, c (q8_0, 32 x 2: 68 bytes) at 128. */
    private Path valid() throws IOException {
        Path file = dir.resolve("valid.gguf");
        new GGUFWriter().putString("general.architecture", "glm-dsa")
                .addTensor("a", GGMLType.F32, new long[]{16}, MemorySegment.ofArray(new byte[64]))
                .addTensor("b", GGMLType.F32, new long[]{16}, MemorySegment.ofArray(new byte[64]))
                .addTensor("c", GGMLType.Q8_0, new long[]{32, 2}, MemorySegment.ofArray(new byte[68]))
                .write(file);
        return file;
    }

    @Test
    void bothReadersRefuseTheSameLayouts() throws IOException {
        Path valid = valid();
        assertTrue(llamaAccepts(valid));
        try (GGUFFile ours = GGUFFile.open(valid)) {
            assertEquals(3, ours.tensors().size());
        }
        Object[][] variants = {
                {"b at offset 0, over a", "b", -1, 0L},
                {"c at offset 64, over b", "c", -1, 64L},
                {"a as f16: 32 bytes, a gap before b", "a", GGMLType.F16.id, 0L},
                {"b as q8_0 of 16 weights: not whole blocks", "b", GGMLType.Q8_0.id, 64L},
                {"c as f32: 256 bytes, past the end of the file", "c", GGMLType.F32.id, 128L},
                {"c misaligned", "c", -1, 130L},
                {"b after c", "b", -1, 224L},
        };
        for (Object[] variant : variants) {
            Path file = Files.copy(valid, dir.resolve("variant.gguf"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            patchTensor(file, (String) variant[1], (int) variant[2], (long) variant[3]);
            GGUFFormatException ours = assertThrows(GGUFFormatException.class, () -> GGUFFile.open(file).close(),
                    variant[0] + ": glmj opened it");
            assertTrue(ours.getMessage().contains("tensor '" + variant[1] + "'"), variant[0] + ": " + ours.getMessage());
            if (!variant[0].toString().contains("past the end")) {
                // llama.cpp checks the file's length later, when it loads a model's tensors
                assertFalse(llamaAccepts(file), variant[0] + ": llama.cpp opened it");
            }
        }
    }

    private static boolean llamaAccepts(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(Gguf.gguf_init_params.layout());
            Gguf.gguf_init_params.no_alloc(params, true);
            Gguf.gguf_init_params.ctx(params, MemorySegment.NULL);
            MemorySegment ctx = Gguf.gguf_init_from_file(arena.allocateFrom(file.toString()), params);
            if (ctx.equals(MemorySegment.NULL)) {
                return false;
            }
            Gguf.gguf_free(ctx);
            return true;
        }
    }

    /** Sets the type id (unless negative) and the data offset of the tensor named {@code name}, found in the header. */
    private static void patchTensor(Path file, String name, int typeId, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        byte[] nameField = ByteBuffer.allocate(8 + name.length()).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(name.length()).put(name.getBytes(StandardCharsets.US_ASCII)).array();
        int at = 0;
        while (!Arrays.equals(bytes, at, at + nameField.length, nameField, 0, nameField.length)) {
            at++;
        }
        ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int typeAt = at + nameField.length + 4 + 8 * header.getInt(at + nameField.length);
        if (typeId >= 0) {
            header.putInt(typeAt, typeId);
        }
        header.putLong(typeAt + 4, offset);
        Files.write(file, bytes);
    }
}
