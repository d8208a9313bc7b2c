package glmj.testdata;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import glmj.gguf.GGUFFile;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** scripts/bench-model's command line: the path on standard output, one-line errors with exit code 2. */
class BenchModelsTest {
    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = BenchModels.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void printsTheCachedModelsPath() {
        Path cached = TestModels.benchModel(BenchGlmDsa.Scale.SMALL);
        Result r = run("--small", "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertEquals(cached + System.lineSeparator(), r.out());
        assertEquals("", r.err(), "nothing generated, nothing said");
    }

    @Test
    void printsTheCachedCheckpointsPath() {
        Path cached = TestModels.benchCheckpoint(BenchGlmDsa.Scale.SMALL);
        Result r = run("--small", "--checkpoint");
        assertEquals(0, r.code(), r.err());
        assertEquals(cached + System.lineSeparator(), r.out());
        assertTrue(Files.isRegularFile(cached.resolve("config.json")));
    }

    @Test
    void writesTheCacheTwinOfTheGlm5ModelOfTheLayersAsked(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("twin.gguf");
        Result r = run("--geometry", "glm5", "--layers", "2", "--dense", "1", "--mtp", "0", "--cache-twin", "--no-progress",
                "-o", file.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(file + System.lineSeparator(), r.out());
        try (GGUFFile twin = GGUFFile.open(file)) {
            assertEquals(2, twin.metadata().getInt("glm-dsa.block_count"));
            assertEquals(1, twin.metadata().getInt("glm-dsa.attention.head_count"));
        }
    }

    @Test
    void badOptionsAreOneLineWithExitCodeTwo(@TempDir Path dir) {
        String[][] cases = {
            {"--geometry", "glm6"},
            {"--small", "--geometry", "glm5"},
            {"--layers", "3"},
            {"--geometry", "glm5", "--layers", "2", "--dense", "3"},
            {"--geometry", "glm5", "--mtp", "2"},
            {"--geometry", "glm5", "--checkpoint"},
            {"--cache-twin"},
            {"--geometry", "glm5", "--cache-twin", "--seed", "3"},
            {"--checkpoint", "-o", dir.toString()},
            {"--geometry", "glm5", "--layers", "4000", "-o", dir.resolve("huge.gguf").toString()},
            {"-o", dir.resolve("missing/model.gguf").toString()},
        };
        for (String[] args : cases) {
            Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals("", r.out());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("bench-model: "), r.err());
        }
        assertTrue(run("--geometry", "glm5", "--layers", "4000", "-o", dir.resolve("huge.gguf").toString()).err()
                .contains("the model needs"));
    }

    @Test
    void helpTeachesWithExamples() {
        Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--geometry glm5 --layers 4"), r.out());
    }
}
