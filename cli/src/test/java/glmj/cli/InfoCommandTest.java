package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFWriter;
import glmj.testdata.FullWidthGlmDsa;
import glmj.testdata.TestModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfoCommandTest {

    record Run(int exitCode, String out, String err) {}

    static Run glmj(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exitCode = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(exitCode, out.toString(), err.toString());
    }

    @Test
    void aFullSizeModelsKvCacheIsPredictedForItsWholeContext(@TempDir Path dir) throws Exception {
        Path glm5 = dir.resolve("glm5-metadata.gguf");
        FullWidthGlmDsa.writeMetadataOnly(glm5, FullWidthGlmDsa.GLM_5);
        JsonNode memory = json(glmj("info", "--json", "--summary", glm5.toString())).get("memory");
        assertEquals(202_752, memory.get("contextLength").asInt());
        // per token and each of the 78 layers: the f16 latent (512), rope key (64) and indexer key (128)
        assertEquals(2L * (512 + 64 + 128) * 78 * 202_752, memory.get("kvCacheBytes").asLong());
        Run text = glmj("info", "--summary", glm5.toString());
        assertTrue(text.out().contains("a KV cache of 20.74 GiB (22,267,035,648 bytes) for the model's 202,752-token context"), text.out());
    }

    @Test
    void splitModelReportsTheSameTensorsAsTheWholeFile(@TempDir Path dir) throws Exception {
        Path whole = TestModels.tinyQuantMix();
        List<Path> shards;
        try (GGUFFile file = GGUFFile.open(whole)) {
            shards = GGUFWriter.copyOf(file).writeSplit(dir, "tiny", file.tensors().size() / 2 + 1);
        }
        assertEquals(2, shards.size());

        JsonNode wholeInfo = json(glmj("info", "--json", whole.toString()));
        JsonNode splitInfo = json(glmj("info", "--json", shards.get(1).toString()));

        assertEquals(2, splitInfo.get("shards").size());
        assertEquals(wholeInfo.get("tensors"), splitInfo.get("tensors"));
        assertEquals(wholeInfo.get("types"), splitInfo.get("types"));
        assertEquals(wholeInfo.get("total"), splitInfo.get("total"));
        assertEquals(wholeInfo.get("hyperparameters"), splitInfo.get("hyperparameters"));
        assertEquals("glm-dsa", splitInfo.get("architecture").asText());
    }

    @Test
    void textReportShowsArchitectureTypesAndTotal() throws Exception {
        Path model = TestModels.tinyQuantMix();
        Run run = glmj("info", model.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("architecture  glm-dsa"), run.out());
        assertTrue(run.out().contains("attention.indexer.top_k"), run.out());
        assertTrue(run.out().contains("pre-tokenizer glm4"), run.out());
        assertTrue(run.out().contains("q2_K"), run.out());
        try (GGUFFile file = GGUFFile.open(model)) {
            assertTrue(run.out().contains("total: " + file.tensors().size() + " tensors"), run.out());
        }
    }

    @Test
    void takesTheModelAsMinusMLikeTheOtherCommands() throws Exception {
        Path model = TestModels.tinyQuantMix();
        Run positional = glmj("info", "--json", model.toString());
        Run withOption = glmj("info", "--json", "-m", model.toString());
        assertEquals(0, withOption.exitCode(), withOption.err());
        assertEquals(positional.out(), withOption.out());
        Run both = glmj("info", "-m", model.toString(), model.toString());
        assertEquals(2, both.exitCode());
        assertEquals("glmj: name the model once, as FILE or as -m FILE", both.err().strip());
    }

    @Test
    void withoutAFileDescribesTheEmbeddedModel() throws Exception {
        JsonNode info = json(glmj("info", "--json", "--summary"));
        assertEquals("glm-dsa", info.get("architecture").asText());
        assertTrue(info.get("total").get("tensors").asInt() > 0);
    }

    @Test
    void missingFileIsOneLineAndExitCodeTwo(@TempDir Path dir) {
        Run run = glmj("info", dir.resolve("absent.gguf").toString());
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + dir.resolve("absent.gguf") + ": no such file", run.err().strip());
    }

    @Test
    void malformedFileIsOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        Path bogus = Files.writeString(dir.resolve("bogus.gguf"), "this is not a gguf file at all");
        Run run = glmj("info", bogus.toString());
        assertEquals(2, run.exitCode());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(run.err().contains("bogus.gguf"), run.err());
    }

    @Test
    void unknownOptionIsExitCodeTwoWithAHint() {
        Run run = glmj("info", "--no-such-option");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("--no-such-option"), run.err());
        assertTrue(run.err().contains("glmj info --help"), run.err());
    }

    private static JsonNode json(Run run) throws Exception {
        assertEquals(0, run.exitCode(), run.err());
        return new ObjectMapper().readTree(run.out());
    }
}
