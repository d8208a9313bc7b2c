package glmj.quant.imatrix;

import glmj.quant.imatrix.ImportanceMatrix.Entry;
import glmj.quant.imatrix.ImportanceMatrix.Form;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImportanceMatrixTest {

    @TempDir
    Path directory;

    /** A dense tensor of 4 columns and an 3-expert tensor of 2 columns whose second expert never fired. */
    private static ImportanceMatrix sample() {
        SortedMap<String, Entry> entries = new TreeMap<>();
        entries.put("blk.0.attn_q.weight", new Entry(new float[] {10, 20, 30, 40}, new long[] {10}));
        entries.put("blk.0.ffn_up_exps.weight", new Entry(new float[] {3, 6, 0, 0, 8, 4}, new long[] {3, 0, 4}));
        return new ImportanceMatrix(Form.GGUF, entries, List.of("calibration.txt"), 2, 5);
    }

    @Test
    void importanceDividesSumsByCountsAndGivesSilentExpertsOne() {
        ImportanceMatrix matrix = sample();
        assertArrayEquals(new float[] {1, 2, 3, 4}, matrix.importance("blk.0.attn_q.weight"));
        assertArrayEquals(new float[] {1, 2, 1, 1, 2, 1}, matrix.importance("blk.0.ffn_up_exps.weight"));
        float[][] perExpert = matrix.importance("blk.0.ffn_up_exps.weight", 2, 3);
        assertArrayEquals(new float[] {1, 1}, perExpert[1]);
        assertArrayEquals(new float[] {2, 1}, perExpert[2]);
        assertNull(matrix.importance("output.weight"));
    }

    @Test
    void importanceOfTheWrongSizeIsRefusedAsLlamaQuantizeRefusesIt() {
        var error = assertThrows(IllegalArgumentException.class, () -> sample().importance("blk.0.attn_q.weight", 8, 1));
        assertEquals("imatrix size 4 is different from tensor size 8 for blk.0.attn_q.weight", error.getMessage());
    }

    @Test
    void nonFiniteImportanceIsRefused() {
        SortedMap<String, Entry> entries = new TreeMap<>();
        entries.put("blk.0.attn_q.weight", new Entry(new float[] {1, Float.POSITIVE_INFINITY}, new long[] {1}));
        ImportanceMatrix matrix = new ImportanceMatrix(Form.GGUF, entries, List.of(), 1, 1);
        var error = assertThrows(IllegalArgumentException.class, () -> matrix.importance("blk.0.attn_q.weight"));
        assertTrue(error.getMessage().contains("non-finite"), error.getMessage());
    }

    @Test
    void legacyFormStoresMeansTimesCallsAndDropsTensorsWithoutData() {
        SortedMap<String, Entry> entries = new TreeMap<>(sample().entries());
        entries.put("blk.1.ffn_up_exps.weight", new Entry(new float[] {1, 1}, new long[] {0, 0}));
        ImportanceMatrix legacy = new ImportanceMatrix(Form.GGUF, entries, List.of("a.txt", "b.txt"), 2, 5).inLegacyForm();
        assertEquals(Form.LEGACY, legacy.form());
        assertEquals(List.of("blk.0.attn_q.weight", "blk.0.ffn_up_exps.weight"), List.copyOf(legacy.entries().keySet()));
        // ncall = ceil(10 / 5) = 2 for the dense tensor, ceil(4 / 5) = 1 for the experts
        assertArrayEquals(new long[] {2}, legacy.entries().get("blk.0.attn_q.weight").counts());
        assertArrayEquals(new float[] {2, 4, 6, 8}, legacy.entries().get("blk.0.attn_q.weight").sums());
        assertArrayEquals(new float[] {1, 2, 1, 1, 2, 1}, legacy.entries().get("blk.0.ffn_up_exps.weight").sums());
        assertArrayEquals(new float[] {1, 2, 3, 4}, legacy.importance("blk.0.attn_q.weight"));
        assertSame(legacy, legacy.inLegacyForm());
    }

    @Test
    void ggufFormOfALegacyMatrixScalesByTheChunkSize() {
        ImportanceMatrix gguf = sample().inLegacyForm().inGgufForm(512);
        assertEquals(Form.GGUF, gguf.form());
        assertEquals(512, gguf.chunkSize());
        assertArrayEquals(new long[] {1024}, gguf.entries().get("blk.0.attn_q.weight").counts());
        assertArrayEquals(new float[] {1024, 2048, 3072, 4096}, gguf.entries().get("blk.0.attn_q.weight").sums());
        assertEquals(2, gguf.chunkCount(), "the largest count over the chunk size");
        assertArrayEquals(new float[] {1, 2, 3, 4}, gguf.importance("blk.0.attn_q.weight"));
    }

    @Test
    void bothFormatsReadBackWhatWasWritten() throws IOException {
        for (ImportanceMatrix matrix : List.of(sample(), sample().inLegacyForm())) {
            Path file = directory.resolve(matrix.form() == Form.GGUF ? "imatrix.gguf" : "imatrix.dat");
            ImatrixFiles.write(matrix, file);
            ImportanceMatrix back = ImatrixFiles.read(file);
            assertEquals(matrix.form(), back.form());
            assertEquals(matrix.datasets(), back.datasets());
            assertEquals(matrix.chunkCount(), back.chunkCount());
            assertEquals(matrix.chunkSize(), back.chunkSize());
            assertEquals(matrix.entries().keySet(), back.entries().keySet());
            for (String name : matrix.entries().keySet()) {
                assertArrayEquals(matrix.entries().get(name).sums(), back.entries().get(name).sums(), name);
                assertArrayEquals(matrix.entries().get(name).counts(), back.entries().get(name).counts(), name);
            }
            Path again = directory.resolve("again-" + file.getFileName());
            ImatrixFiles.write(back, again);
            assertEquals(-1, Files.mismatch(file, again), "written twice, the same bytes");
        }
    }

    @Test
    void legacyFileOfTheOldestKindWithoutTrailerReads() throws IOException {
        Path file = directory.resolve("old.dat");
        ImatrixFiles.write(sample().inLegacyForm(), file);
        byte[] bytes = Files.readAllBytes(file);
        int trailer = 4 + 4 + "calibration.txt".length();
        Files.write(file, Arrays.copyOf(bytes, bytes.length - trailer));
        ImportanceMatrix back = ImatrixFiles.read(file);
        assertEquals(0, back.chunkCount());
        assertEquals(List.of(), back.datasets());
        assertArrayEquals(new float[] {1, 2, 3, 4}, back.importance("blk.0.attn_q.weight"));
    }

    @Test
    void badFilesFailInOneLineNamingTheFile() throws IOException {
        Path truncated = directory.resolve("truncated.dat");
        ImatrixFiles.write(sample().inLegacyForm(), truncated);
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, Arrays.copyOf(bytes, 30));
        var error = assertThrows(IOException.class, () -> ImatrixFiles.read(truncated));
        assertTrue(error.getMessage().startsWith(truncated + ": the file ends"), error.getMessage());

        Path empty = directory.resolve("empty.dat");
        Files.write(empty, new byte[] {0, 0, 0, 0});
        error = assertThrows(IOException.class, () -> ImatrixFiles.read(empty));
        assertTrue(error.getMessage().startsWith(empty + ": not an importance matrix"), error.getMessage());

        Path model = directory.resolve("model.gguf");
        new glmj.gguf.GGUFWriter().putString("general.architecture", "glm-dsa").write(model);
        error = assertThrows(IOException.class, () -> ImatrixFiles.read(model));
        assertTrue(error.getMessage().startsWith(model + ": not an importance matrix"), error.getMessage());
        assertTrue(!error.getMessage().contains("\n"));
    }
}
