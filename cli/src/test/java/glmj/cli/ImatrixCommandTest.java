package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.quant.imatrix.ImatrixFiles;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.testdata.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImatrixCommandTest {
    @TempDir
    static Path dir;

    private static Path text(int words) throws IOException {
        StringBuilder text = new StringBuilder();
        String[] vocabulary = {"experts", "route", "tokens", "through", "two", "bits", "and", "attention", "keeps", "four"};
        for (int i = 0; i < words; i++) {
            text.append(vocabulary[(i * 7 + i / 3) % vocabulary.length]).append(i % 11 == 10 ? ".\n" : " ");
        }
        Path file = dir.resolve("text-" + words + ".txt");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void collectsAndWritesBothFormats() throws IOException {
        Path out = dir.resolve("imatrix.gguf");
        InfoCommandTest.Run run = glmj("imatrix", "-m", TestModels.tinyF32().toString(), "--text", text(400).toString(),
                "-c", "32", "--chunks", "3", "-o", out.toString(), "-t", "2");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("3 chunks of 32"), run.out());
        assertTrue(run.out().contains("wrote " + out), run.out());
        ImportanceMatrix matrix = ImatrixFiles.read(out);
        assertEquals(ImportanceMatrix.Form.GGUF, matrix.form());
        assertEquals(3, matrix.chunkCount());
        assertEquals(32, matrix.chunkSize());
        assertEquals(96, matrix.entries().get("blk.0.attn_q_a.weight").counts()[0]);
        assertEquals(8, matrix.entries().get("blk.1.ffn_down_exps.weight").matrices());
        assertTrue(!matrix.entries().containsKey("output.weight"), "only with --process-output");

        Path dat = dir.resolve("imatrix.dat");
        run = glmj("imatrix", "-m", TestModels.tinyF32().toString(), "--text", text(400).toString(), "-c", "32", "--chunks", "2",
                "-o", dat.toString(), "--output-format", "dat", "--process-output");
        assertEquals(0, run.exitCode(), run.err());
        ImportanceMatrix legacy = ImatrixFiles.read(dat);
        assertEquals(ImportanceMatrix.Form.LEGACY, legacy.form());
        assertTrue(legacy.entries().containsKey("output.weight"));
    }

    @Test
    void problemsAreOneLine() throws IOException {
        Path out = dir.resolve("never.gguf");
        InfoCommandTest.Run run = glmj("imatrix", "-m", TestModels.tinyF32().toString(), "--text", text(20).toString(), "-c", "64",
                "-o", out.toString());
        assertEquals(2, run.exitCode());
        assertTrue(run.err().matches("glmj: the text makes \\d+ tokens; chunks of 64 tokens need at least 128\n"), run.err());
        Files.writeString(out, "x");
        run = glmj("imatrix", "-m", TestModels.tinyF32().toString(), "--text", text(20).toString(), "-o", out.toString());
        assertEquals("glmj: " + out + " exists: choose another -o, or overwrite it with --force\n", run.err());
        run = glmj("imatrix", "-m", TestModels.tinyF32().toString(), "--text", dir.resolve("none.txt").toString(), "-o",
                dir.resolve("x.gguf").toString());
        assertEquals("glmj: " + dir.resolve("none.txt") + ": no such file\n", run.err());
        Path nowhere = dir.resolve("no-such-directory");
        run = glmj("imatrix", "-m", TestModels.tinyF32().toString(), "--text", text(400).toString(), "-o",
                nowhere.resolve("x.gguf").toString());
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + nowhere + ": no such directory for the output\n", run.err(), "before any chunk runs");
        Path directory = Files.createDirectory(dir.resolve("a-directory"));
        run = glmj("imatrix", "-m", TestModels.tinyF32().toString(), "--text", text(400).toString(), "-o", directory.toString(),
                "--force");
        assertEquals("glmj: " + directory + " is not a regular file: name a file to write\n", run.err());
        assertTrue(Files.isDirectory(directory), "not renamed over");
    }
}
