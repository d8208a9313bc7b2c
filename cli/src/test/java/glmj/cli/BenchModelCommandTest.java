package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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
    void writesTheBenchModelsCheckpointWhichQualityWeightsComparesItWith(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("bench.gguf");
        Path checkpoint = dir.resolve("bench-fp8");
        assertEquals(0, glmj("bench-model", "--small", model.toString()).exitCode());
        Run run = glmj("bench-model", "--small", "--checkpoint", checkpoint.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(checkpoint.toString(), run.out().strip());
        run = glmj("quality", "weights", "--reference", checkpoint.toString(), "-m", model.toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode total = new ObjectMapper().readTree(run.out()).get("models").get(0).get("total");
        // the bench model quantizes the weights the checkpoint rounds to FP8: errors of a few bits' quantization
        assertTrue(total.get("rel_rms").asDouble() > 0.01 && total.get("rel_rms").asDouble() < 0.5, total.toString());
        assertTrue(glmj("bench-model", "--small", "--checkpoint", checkpoint.toString()).err().contains("exists"));
    }

    @Test
    void isHiddenFromTheCommandList() {
        Run run = glmj("--help");
        assertFalse(run.out().contains("bench-model"), run.out());
    }
}
