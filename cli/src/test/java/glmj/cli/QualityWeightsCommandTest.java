package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.convert.CheckpointConverter;
import glmj.convert.OutputType;
import glmj.hf.HfCheckpoint;
import glmj.quality.WeightReport;
import glmj.testdata.TestModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QualityWeightsCommandTest {
    @TempDir
    static Path dir;
    private static Path reference;
    private static Path bf16;
    private static Path q8;

    @BeforeAll
    static void convert() throws IOException {
        reference = TestModels.tinyCheckpoint();
        bf16 = dir.resolve("tiny-bf16.gguf");
        q8 = dir.resolve("tiny-q8_0.gguf");
        try (HfCheckpoint checkpoint = HfCheckpoint.open(reference)) {
            CheckpointConverter.convert(checkpoint, bf16, OutputType.BF16, "tiny");
            CheckpointConverter.convert(checkpoint, q8, OutputType.Q8_0, "tiny");
        }
    }

    @Test
    void tableComparesEachModelPerKindAndLayer() {
        InfoCommandTest.Run run = glmj("quality", "weights", "--reference", reference.toString(), "-m", bf16.toString(),
                "-m", q8.toString(), "-t", "2");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains(bf16 + ": "), run.out());
        assertTrue(run.out().contains(q8 + ": "), run.out());
        assertTrue(run.out().contains("experts down"), run.out());
        assertTrue(run.out().contains("relative RMS error per layer"), run.out());
        assertTrue(run.out().contains("GB/s"), run.out());
        assertTrue(run.err().contains("GB/s"), "the speed reached, for comparing with glmj bench --memory: " + run.err());
        assertTrue(run.err().startsWith("2 models in one pass: "), run.err());
    }

    @Test
    void jsonIsTheReportAndReadsBack() throws IOException {
        InfoCommandTest.Run run = glmj("quality", "weights", "--reference", reference.toString(), "-m", q8.toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals("glmj-quality-weights", json.get("format").asText());
        JsonNode model = json.get("models").get(0);
        assertEquals(q8.toString(), model.get("model").asText());
        double relRms = model.get("total").get("rel_rms").asDouble();
        assertTrue(relRms > 0 && relRms < 0.01, "Q8_0: " + relRms);
        assertTrue(model.get("gb_per_s").asDouble() > 0);
        assertEquals(-1, model.get("layers").get(0).get("layer").asInt());
        assertTrue(model.get("layers").get(2).get("kinds").has("experts gate"));
        assertTrue(model.get("kinds").get("norms").get("snr_db").isNull(), "norms stay F32: identical");
        Path file = dir.resolve("weights.json");
        Files.writeString(file, run.out());
        assertEquals(relRms, WeightReport.readJson(file).models().getFirst().total().relativeRms(), 1e-15);
    }

    @Test
    void csvHasALinePerTensorAndPlotsAreWritten() throws IOException {
        Path png = dir.resolve("weights.png");
        Path svg = dir.resolve("weights.svg");
        InfoCommandTest.Run run = glmj("quality", "weights", "--reference", reference.toString(), "-m", bf16.toString(),
                "-m", q8.toString(), "--csv", "--plot", png.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("model,tensor,type,kind,layer,values,rel_rms,cosine,snr_db,max_abs", run.out().lines().findFirst().orElseThrow());
        assertEquals(1 + 2 * 94, run.out().lines().count());
        assertTrue(run.out().contains(q8 + ",blk.1.ffn_down_exps.weight,q8_0,experts down,1,"), run.out());
        byte[] image = Files.readAllBytes(png);
        assertEquals("PNG", new String(image, 1, 3, StandardCharsets.US_ASCII));
        assertTrue(image.length > 10_000, "a drawn chart: " + image.length + " bytes");

        run = glmj("quality", "weights", "--reference", reference.toString(), "-m", q8.toString(), "--plot", svg.toString());
        assertEquals(0, run.exitCode(), run.err());
        String drawing = Files.readString(svg);
        assertTrue(drawing.contains("<svg"), drawing.substring(0, Math.min(200, drawing.length())));
        int paths = drawing.split("<path", -1).length - 1;
        assertTrue(paths > 20 && drawing.length() > 10_000, "a drawn chart (XChart draws its text as paths too): " + paths + " paths");
    }

    @Test
    void problemsAreOneLineAndExitCode2() throws IOException {
        InfoCommandTest.Run run = glmj("quality", "weights", "--reference", reference.toString(), "-m", TestModels.tinyF32().toString());
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + TestModels.tinyF32() + ": tensor 'token_embd.weight' is [256, 151679] but [256, 151680] in the reference "
                + reference + "\n", run.err());

        run = glmj("quality", "weights", "--reference", dir.resolve("missing").toString(), "-m", q8.toString());
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + dir.resolve("missing") + ": no such file\n", run.err());

        run = glmj("quality", "weights", "--reference", dir.toString(), "-m", q8.toString());
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + dir + ": not a Hugging Face checkpoint: it has no config.json\n", run.err());

        run = glmj("quality", "weights", "--reference", q8.toString(), "-m", q8.toString());
        assertEquals(2, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("not a directory"), run.err());

        run = glmj("quality", "weights", "--reference", reference.toString(), "-m", q8.toString(), "--plot", "weights.pdf");
        assertEquals(2, run.exitCode());
        assertEquals("glmj: --plot weights.pdf: the file name must end in .png or .svg\n", run.err());

        run = glmj("quality", "weights", "-m", q8.toString());
        assertEquals(2, run.exitCode());
        assertTrue(run.err().startsWith("glmj: Missing required option: '--reference=DIR'"), run.err());

        run = glmj("quality");
        assertEquals(0, run.exitCode());
        assertTrue(run.out().contains("weights"), run.out());
    }
}
