package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.cli.InfoCommandTest.Run;
import glmj.gguf.ActiveWeights;
import glmj.gguf.GGUFFile;
import glmj.testdata.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class BenchCommandTest {

    @Test
    void jsonHasTheMeansAndEveryRepetition() throws Exception {
        Run run = glmj("bench", "-p", "32", "-n", "8", "-r", "3", "-t", "2", "-c", "64", "--warm-up", "0", "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode report = new ObjectMapper().readTree(run.out());
        for (String test : new String[] {"pp", "tg"}) {
            JsonNode samples = report.get(test + "_samples");
            assertEquals(3, samples.size());
            double sum = 0;
            for (JsonNode sample : samples) {
                assertTrue(sample.asDouble() > 0);
                sum += sample.asDouble();
            }
            assertEquals(sum / 3, report.get(test + "_tps").asDouble(), 1e-9);
        }
        assertEquals(32, report.get("pp_tokens").asInt());
        assertEquals(8, report.get("tg_tokens").asInt());
    }

    @Test
    void aTestLargerThanTheContextIsRefused() {
        Run run = glmj("bench", "-p", "300", "-n", "0", "-c", "256");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("does not fit in a context of 256"), run.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "llama"})
    void depthRunsTheTestsAfterThatManyTokens(String engine) throws Exception {
        Run run = glmj("bench", "--engine", engine, "-p", "8", "-n", "4", "-d", "40", "-r", "2", "-t", "2", "--warm-up", "0", "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals(40, report.get("n_depth").asInt());
        assertTrue(report.get("pp_tps").asDouble() > 0);
        assertTrue(report.get("tg_tps").asDouble() > 0);
        assertTrue(report.get("load_s").asDouble() > 0);
        assertTrue(report.get("first_token_s").asDouble() > report.get("load_s").asDouble());
        try (GGUFFile model = GGUFFile.open(BuiltInModel.path())) {
            assertEquals(ActiveWeights.of(model).perToken(), report.get("active_bytes_per_token").asLong());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "llama"})
    void aFillModelFillsTheDepthOfAModelWithItsCacheLayout(String engine) throws Exception {
        String twin = TestModels.fullWidthMiniatureCacheTwin().toString();
        Run run = glmj("bench", "--engine", engine, "-m", TestModels.fullWidthMiniature().toString(), "-p", "0", "-n", "2",
                "-d", "300", "-r", "1", "--warm-up", "0", "--fill-model", twin, "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals(300, report.get("n_depth").asInt());
        assertEquals(twin, report.get("depth_filled_by").asText());
        assertTrue(report.get("tg_tps").asDouble() > 0);
        assertTrue(run.err().contains("filling the context with 300 tokens by " + twin), run.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "llama"})
    void aFillModelOfAnotherCacheLayoutIsRefused(String engine) {
        Path tiny = BuiltInModel.path();
        Run run = glmj("bench", "--engine", engine, "-m", TestModels.fullWidthMiniature().toString(), "-p", "0", "-n", "2",
                "-d", "30", "-r", "1", "--warm-up", "0", "--fill-model", tiny.toString());
        assertEquals(2, run.exitCode(), run.err());
        String last = run.err().lines().reduce((first, second) -> second).orElse("");
        assertTrue(last.startsWith("glmj: " + tiny + ": ") && last.contains("layout"), run.err());
        assertEquals("", run.out(), "no table begun");
    }

    @Test
    void aFillModelNeedsADepth() {
        Run run = glmj("bench", "-p", "0", "-n", "2", "--fill-model", BuiltInModel.path().toString());
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("--fill-model fills the depth: give -d too"), run.err());
    }

    @Test
    void tableNamesTheDepthAsLlamaBenchDoes() {
        Run run = glmj("bench", "-p", "0", "-n", "2", "-d", "8", "-r", "1", "--warm-up", "0");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("tg2 @ d8"), run.out());
    }

    @Test
    void aDepthBeyondTheModelsContextIsRefused() {
        Run run = glmj("bench", "-p", "0", "-n", "4", "-d", "5000");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("need a context of 5004, more than the model's 4096"), run.err());
    }

    @Test
    void memoryReportsReadBandwidth() throws Exception {
        Run run = glmj("bench", "--memory", "-r", "1", "-t", "1", "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals(1, report.get("threads").asInt());
        assertTrue(report.get("read_gbps").asDouble() > 0.1, run.out());
    }
}
