package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import glmj.cli.InfoCommandTest.Run;
import glmj.gguf.GGUFFile;
import glmj.testdata.BenchGlmDsa;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchModelCommandTest {

    @Test
    void writesTheBenchModelAndPrintsItsPath(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bench.gguf");
        Run run = glmj("bench-model", "--small", file.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(file.toString(), run.out().strip());
        try (GGUFFile model = GGUFFile.open(file)) {
            assertEquals(BenchGlmDsa.EXPERT_COUNT, model.metadata().getInt("glm-dsa.expert_count"));
        }
    }

    @Test
    void isHiddenFromTheCommandList() {
        Run run = glmj("--help");
        assertFalse(run.out().contains("bench-model"), run.out());
    }
}
