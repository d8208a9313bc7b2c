package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output that cannot be written (a full disk, a closed pipe) ends the command in one line with exit code 2, never 0;
 * glmj's own stdout (a child process) says why.
 */
class OutputFailureTest {
    private static final File FULL = new File("/dev/full");

    /** A stdout on a full disk: every write fails; counts the attempts. */
    private static final class FullDisk extends OutputStream {
        int attempts;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            attempts++;
            throw new IOException("No space left on device");
        }
    }

    @Test
    void aRunStopsAtTheFirstPieceItCannotWrite() {
        FullDisk disk = new FullDisk();
        StringWriter err = new StringWriter();
        int exitCode = Main.execute(new String[] {"run", "-p", "Hello", "-n", "200", "--temp", "0", "-c", "256"},
                new PrintWriter(new OutputStreamWriter(disk, StandardCharsets.UTF_8)), new PrintWriter(err, true));
        assertEquals(2, exitCode);
        assertEquals("glmj: could not write to stdout", err.toString().strip());
        assertEquals(1, disk.attempts, "generation stopped at the first lost piece");
    }

    @Test
    void infoWhoseOutputIsLostFails() {
        StringWriter err = new StringWriter();
        int exitCode = Main.execute(new String[] {"info", "--summary"},
                new PrintWriter(new OutputStreamWriter(new FullDisk(), StandardCharsets.UTF_8)), new PrintWriter(err, true));
        assertEquals(2, exitCode);
        assertEquals("glmj: could not write to stdout", err.toString().strip());
    }

    @Test
    void stdoutOnAFullDevice(@TempDir Path dir) throws Exception {
        assumeTrue(FULL.exists(), "needs /dev/full");
        Path prompts = Files.writeString(dir.resolve("prompts.txt"), "Hello\nThe capital of France is\n");
        for (String[] args : List.of(new String[] {"run", "-p", "Hello", "-n", "8", "-c", "64"},
                new String[] {"batch", prompts.toString(), "-n", "4", "-c", "64"})) {
            Process process = ChildGlmj.command(args).redirectOutput(FULL).start();
            List<String> errors = ChildGlmj.errors(process);
            assertEquals(2, process.waitFor(), args[0] + ": " + errors);
            assertEquals(List.of("glmj: could not write to stdout: No space left on device"),
                    errors.stream().filter(line -> line.startsWith("glmj:")).toList(), args[0] + ": " + errors);
        }
        Process toFile = ChildGlmj.command("batch", prompts.toString(), "-n", "4", "-c", "64", "-o", FULL.getPath()).start();
        List<String> errors = ChildGlmj.errors(toFile);
        assertEquals(2, toFile.waitFor(), errors.toString());
        assertEquals(List.of("glmj: /dev/full: No space left on device"),
                errors.stream().filter(line -> line.startsWith("glmj:")).toList(), errors.toString());
    }

    @Test
    void stdoutIntoAClosedPipe() throws Exception {
        Process process = ChildGlmj.command("run", "-p", "Hello", "-n", "2000", "-c", "4096").start();
        process.getInputStream().close();
        List<String> errors = ChildGlmj.errors(process);
        assertEquals(2, process.waitFor(), errors.toString());
        assertTrue(errors.stream().filter(line -> line.startsWith("glmj:")).toList()
                .equals(List.of("glmj: could not write to stdout: Broken pipe")), errors.toString());
    }
}
