package glmj.cli;

import glmj.engine.Units;
import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.gguf.GGUFFile;
import glmj.quant.Recipes;
import glmj.quant.imatrix.ImatrixFiles;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.tensor.GGMLType;
import glmj.testdata.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeCommandTest {
    @TempDir
    static Path dir;
    private static Path checkpoint;

    @BeforeAll
    static void checkpoint() {
        checkpoint = TestModels.tinyCheckpoint();
    }

    @Test
    void dryRunShowsEveryTensorTheSizeAndTheMemoryAndWritesNothing() throws IOException {
        InfoCommandTest.Run run = glmj("quantize", "--from", checkpoint.toString(), "--recipe", "Q4_K_M", "--dry-run",
                "-o", dir.resolve("never.gguf").toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("blk.1.attn_q_b.weight"), run.out());
        assertTrue(run.out().contains("q5_0      ") && run.out().contains("rows of 576 are not whole q4_K blocks"), run.out());
        assertTrue(run.out().contains("line 11: *ffn_down* more-bits q6_K"), run.out());
        assertTrue(run.out().contains("not quantized (llama-quantize leaves it)"), run.out());
        assertTrue(run.out().contains("recipe Q4_K_M (built-in recipe Q4_K_M): 94 tensors"), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("size: ") && l.contains(" MB (") && l.contains("bits per weight")), run.out());
        assertTrue(run.out().contains("resident memory to run it: "), run.out());
        assertTrue(run.out().contains("the MTP block's"), run.out());
        assertTrue(!Files.exists(dir.resolve("never.gguf")));
    }

    @Test
    void writesTheFileAndRefusesToOverwriteIt() throws IOException {
        Path out = dir.resolve("tiny-Q8_0.gguf");
        InfoCommandTest.Run run = glmj("quantize", "--from", checkpoint.toString(), "--recipe", "q8_0", "-o", out.toString(), "-t", "2");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("wrote " + out), run.out());
        try (GGUFFile file = GGUFFile.open(out)) {
            assertEquals(GGMLType.Q8_0, file.tensor("blk.2.ffn_up_exps.weight").type());
            assertEquals(7, file.metadata().getInt("general.file_type"));
            assertEquals("tiny-glm-dsa-fp8-checkpoint", file.metadata().getString("general.name"));
        }
        run = glmj("quantize", "--from", checkpoint.toString(), "--recipe", "q8_0", "-o", out.toString());
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + out + " exists: choose another -o, or overwrite it with --force\n", run.err());

        run = glmj("quantize", "--from", out.toString(), "--recipe", "q8_0", "-o", out.toString(), "--force");
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + out + " is the input: write the output to another file\n", run.err());
    }

    @Test
    void writesASplitSetNamedAsLlamaGgufSplitNamesIt() throws IOException {
        Path out = dir.resolve("split/tiny.gguf");
        Files.createDirectories(out.getParent());
        InfoCommandTest.Run run = glmj("quantize", "--from", checkpoint.toString(), "--recipe", "Q4_K_M", "-o", out.toString(),
                "--split-max-size", "20M", "--name", "tiny split");
        assertEquals(0, run.exitCode(), run.err());
        List<Path> files;
        try (Stream<Path> listed = Files.list(out.getParent())) {
            files = listed.sorted().toList();
        }
        assertEquals(3, files.size(), files.toString());
        assertEquals("tiny-00001-of-00003.gguf", files.getFirst().getFileName().toString());
        try (GGUFFile set = GGUFFile.open(files.getLast())) {
            assertEquals(3, set.shards().size());
            assertEquals("tiny split", set.metadata().getString("general.name"));
            assertEquals(94, set.tensors().size());
        }
    }

    /** An importance matrix of the tiny checkpoint: every column of every block matrix weighs alike, 64 tokens. */
    private static Path uniformImportance() throws IOException {
        Path file = dir.resolve("uniform-imatrix.gguf");
        if (Files.exists(file)) {
            return file;
        }
        java.util.TreeMap<String, ImportanceMatrix.Entry> entries = new java.util.TreeMap<>();
        try (glmj.quant.ModelSource source = glmj.quant.ModelSource.open(checkpoint, null)) {
            for (glmj.quant.SourceTensor t : source.tensors()) {
                if (t.name().startsWith("blk.1.") || t.name().startsWith("blk.2.") || t.name().startsWith("blk.0.")) {
                    if (glmj.quant.QuantizeRules.allowsQuantization(t.name(), t.shape())) {
                        float[] sums = new float[t.rowLength() * t.matrixCount()];
                        java.util.Arrays.fill(sums, 64f);
                        long[] counts = new long[t.name().contains("_exps") ? t.matrixCount() : 1];
                        java.util.Arrays.fill(counts, 64);
                        entries.put(t.name(), new ImportanceMatrix.Entry(sums, counts));
                    }
                }
            }
        }
        ImatrixFiles.write(new ImportanceMatrix(ImportanceMatrix.Form.GGUF, entries, List.of("uniform"), 1, 64), file);
        return file;
    }

    @Test
    void targetSizeChoosesTypesThatFit() throws IOException {
        InfoCommandTest.Run run = glmj("quantize", "--from", checkpoint.toString(), "--recipe", "Q2_K_XL", "--imatrix",
                uniformImportance().toString(), "--target-size", "67MB", "--dry-run", "-t", "2");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("--target-size 67.00 MB (63.90 MiB): 42 measured tensors' types chosen"), run.out());
        String size = run.out().lines().filter(l -> l.startsWith("size: ")).findFirst().orElseThrow();
        long bytes = Long.parseLong(size.replaceAll("size: ([0-9.]+) MB.*", "$1").replace(".", "")) * 10_000;
        assertTrue(bytes <= 67_000_000, size);

        run = glmj("quantize", "--from", checkpoint.toString(), "--recipe", "Q2_K_XL", "--target-size", "67MB", "--dry-run");
        assertEquals(2, run.exitCode());
        assertEquals("glmj: --target-size needs --imatrix: the importance matrix says which errors matter\n", run.err());
    }

    @Test
    void helpTeachesWithExamples() {
        InfoCommandTest.Run run = glmj("quantize", "--help");
        assertEquals(0, run.exitCode(), run.err());
        for (String taught : List.of("Usage: glmj quantize", "--from=DIR|FILE", "--recipe=NAME|FILE", "--imatrix=FILE",
                "--dry-run", "--target-size=SIZE", "--split-max-size=SIZE", "--list-recipes", "Examples:",
                "glmj quantize --from GLM-5-FP8 --recipe Q4_K_M --dry-run", "50GiB")) {
            assertTrue(run.out().contains(taught), taught + " in " + run.out());
        }
        run = glmj("imatrix", "--help");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("Usage: glmj imatrix") && run.out().contains("--text=FILE"), run.out());
    }

    @Test
    void listsAndPrintsRecipes() {
        InfoCommandTest.Run run = glmj("quantize", "--list-recipes");
        assertEquals(0, run.exitCode(), run.err());
        for (String name : Recipes.BUILT_IN) {
            assertTrue(run.out().lines().anyMatch(l -> l.startsWith(name + " ")), name + " in " + run.out());
        }
        run = glmj("quantize", "--print-recipe", "ud-q2_k_xl");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("blk.*.ffn_{gate,up}_exps.weight                         iq2_xxs"), run.out());
    }

    @Test
    void badInputIsOneLineAndExitCode2() throws IOException {
        Path out = dir.resolve("bad.gguf");
        assertOneLine("glmj: built-in recipe Q2_K_XL makes blk.2.ffn_gate_exps.weight iq2_xxs (line 20: blk.*.ffn_{gate,up}_exps.weight"
                + " iq2_xxs), which needs an importance matrix: give one with --imatrix FILE (glmj imatrix makes one)",
                "quantize", "--from", checkpoint.toString(), "--recipe", "Q2_K_XL", "-o", out.toString());
        assertOneLine("glmj: unknown recipe 'Q9_K': neither a file nor one of the built-in recipes (Q2_K_XL, Q3_K_XL, Q4_K_M, Q8_0,"
                + " BF16, F32; see glmj quantize --list-recipes)", "quantize", "--from", checkpoint.toString(), "--recipe", "Q9_K",
                "-o", out.toString());
        Path badRecipe = dir.resolve("bad.recipe");
        Files.writeString(badRecipe, "file-type Q4_K_M\n*  q4_k_m\n");
        assertOneLine("glmj: " + badRecipe + ":2: 'q4_k_m' is not a type glmj quantizes to (", "quantize", "--from",
                checkpoint.toString(), "--recipe", badRecipe.toString(), "-o", out.toString());
        Path notImatrix = dir.resolve("not-an-imatrix.dat");
        Files.write(notImatrix, new byte[] {0, 0, 0, 0});
        assertOneLine("glmj: " + notImatrix + ": not an importance matrix", "quantize", "--from", checkpoint.toString(),
                "--recipe", "Q2_K_XL", "--imatrix", notImatrix.toString(), "-o", out.toString());
        assertOneLine("glmj: " + dir.resolve("nowhere") + ": no such file", "quantize", "--from", dir.resolve("nowhere").toString(),
                "--recipe", "Q8_0", "-o", out.toString());
        assertOneLine("glmj: say what to quantize with --from DIR|FILE (see glmj quantize --help)", "quantize", "--recipe", "Q8_0",
                "-o", out.toString());
        assertOneLine("glmj: choose a recipe with --recipe NAME|FILE (built in: Q2_K_XL, Q3_K_XL, Q4_K_M, Q8_0, BF16, F32)",
                "quantize", "--from", checkpoint.toString(), "-o", out.toString());
        assertOneLine("glmj: name the output with -o FILE, or look first with --dry-run", "quantize", "--from",
                checkpoint.toString(), "--recipe", "Q8_0");
        assertOneLine("glmj: Invalid value for option '--split-max-size': '50X' is not a size", "quantize", "--from",
                checkpoint.toString(), "--recipe", "Q8_0", "-o", out.toString(), "--split-max-size", "50X");
        assertOneLine("glmj: " + TestModels.tinyF32().getParent().resolve("nodir") + ": no such directory for the output", "quantize",
                "--from", checkpoint.toString(), "--recipe", "Q8_0", "-o",
                TestModels.tinyF32().getParent().resolve("nodir/x.gguf").toString());
        Path directory = Files.createDirectories(dir.resolve("a-directory"));
        assertOneLine("glmj: " + directory + " is not a regular file: name a file to write", "quantize", "--from",
                checkpoint.toString(), "--recipe", "Q8_0", "-o", directory.toString(), "--force");
        assertTrue(Files.isDirectory(directory), "not renamed over");
        assertTrue(!Files.exists(out));
    }

    private static void assertOneLine(String expectedStart, String... args) {
        InfoCommandTest.Run run = glmj(args);
        assertEquals(2, run.exitCode(), run.err());
        assertEquals("", run.out(), "nothing on stdout before the error");
        String firstLine = run.err().lines().findFirst().orElse("");
        assertTrue(firstLine.startsWith(expectedStart), run.err());
        assertTrue(run.err().lines().count() <= 2 && !run.err().contains("internal error"), run.err());
    }

    @Test
    void sizesAreReadAsUsersWriteThem() {
        assertEquals(50_000_000_000L, Units.parseBytes("50G"));
        assertEquals(50_000_000_000L, Units.parseBytes("50GB"));
        assertEquals(50L << 30, Units.parseBytes("50GiB"));
        assertEquals(1_500_000_000_000L, Units.parseBytes("1.5T"));
        assertEquals(20_000_000L, Units.parseBytes("20m"));
        assertEquals(4096L, Units.parseBytes("4096"));
        for (String bad : new String[] {"", "G", "50X", "50iB", "-1G", "0"}) {
            try {
                Units.parseBytes(bad);
                throw new AssertionError(bad + " was read as a size");
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage().contains(bad.isEmpty() ? "''" : bad), expected.getMessage());
            }
        }
    }
}
