package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import glmj.cli.InfoCommandTest.Run;
import glmj.quality.KldBaseWriter;
import glmj.quality.ModelWeightErrors;
import glmj.quality.TensorKind;
import glmj.quality.WeightError;
import glmj.quality.WeightReport;
import glmj.testdata.TestModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * glmj quality reference and compare end to end on the tiny models, over 4 chunks of 64 tokens of Moby-Dick
 * (scripts/fetch-corpus; a missing corpus fails the test under -Dglmj.require.llama=true, as scripts/test runs it).
 */
class QualityCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path text;
    static Path base;
    static String reference;
    static String mix;

    @BeforeAll
    static void referenceRun() throws IOException {
        Path corpus = Path.of(System.getProperty("glmj.corpus", ".deps/corpus/moby-dick.txt"));
        if (Boolean.getBoolean("glmj.require.llama")) {
            assertTrue(Files.isRegularFile(corpus), corpus + " is missing: run scripts/fetch-corpus");
        }
        Assumptions.assumeTrue(Files.isRegularFile(corpus), corpus + " is missing: run scripts/fetch-corpus");
        text = Files.write(dir.resolve("text.txt"), Arrays.copyOf(Files.readAllBytes(corpus), 20_000));
        reference = TestModels.tinyF32().toString();
        mix = TestModels.tinyQuantMix().toString();
        base = dir.resolve("f32.kld");
        Run run = glmj("quality", "reference", "-m", reference, "-f", text.toString(), "-c", "64", "--chunks", "4", "-t", "2",
                "-o", base.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("4 chunks of 64 tokens from text.txt, 124 scored"), run.out());
        assertTrue(run.out().matches("(?s).*Final estimate: PPL = \\d+\\.\\d{4} \\+/- \\d+\\.\\d{5}.*"), run.out());
        assertTrue(run.out().contains("tokens/s"), run.out());
        assertFalse(Files.exists(KldBaseWriter.partialOf(base)));
    }

    private static Run compare(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("quality", "compare", "--reference", base.toString(), "-t", "2"));
        args.addAll(List.of(more));
        return glmj(args.toArray(String[]::new));
    }

    @Test
    void compareReportsEachModel() throws Exception {
        Run run = compare("-m", mix, "-m", reference, "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode report = JSON.readTree(run.out());
        assertEquals("glmj-quality-compare", report.get("format").asText());
        assertEquals(124, report.at("/reference/scored_tokens").asInt());
        JsonNode quantized = report.at("/models/0"), same = report.at("/models/1");
        assertTrue(quantized.at("/statistics/kld/value").asDouble() > 0.001, quantized.toString());
        assertTrue(quantized.at("/bits_per_weight").asDouble() < same.at("/bits_per_weight").asDouble());
        assertTrue(Math.abs(same.at("/statistics/kld/value").asDouble()) < 1e-5, "the reference against itself");
        assertEquals(1.0, same.at("/statistics/same_top/value").asDouble());
        assertEquals(same.at("/statistics/ppl/value").asDouble(), same.at("/statistics/ppl_base/value").asDouble(),
                1e-3 * same.at("/statistics/ppl/value").asDouble());
        for (String field : List.of("median", "p90", "p99", "p99_9", "max")) {
            assertTrue(quantized.at("/statistics/kld_percentiles/" + field).isNumber(), field);
        }
        assertTrue(quantized.at("/statistics/probability_delta_rms/value").isNumber());
    }

    @Test
    void tableCsvAndLlamaPerplexitysReport() throws Exception {
        Path csv = dir.resolve("report.csv");
        Run run = compare("-m", mix, "--csv", csv.toString(), "--details");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("reference " + base + ": 4 chunks of 64 tokens, 124 scored"), run.out());
        assertTrue(run.out().contains("tiny-glm-dsa-UD_Q2_K_XL.gguf"), run.out());
        assertTrue(run.err().contains("====== KL divergence statistics ======"), run.err());
        assertTrue(run.err().contains("Same top p:"), run.err());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(2, lines.size());
        List<String> header = List.of(lines.get(0).split(","));
        String[] row = lines.get(1).split(",");
        assertEquals(header.size(), row.length);
        assertEquals("tiny-glm-dsa-UD_Q2_K_XL.gguf", row[header.indexOf("model")]);
        assertTrue(Double.parseDouble(row[header.indexOf("kld")]) > 0);
    }

    @Test
    void gatesFailWithALinePerFailure() throws Exception {
        Run run = compare("-m", mix, "--max-kld", "1e-9", "--min-top1", "1", "--max-ppl-ratio", "100");
        assertEquals(1, run.exitCode(), run.err());
        List<String> failures = run.err().lines().filter(line -> line.startsWith("FAIL ")).toList();
        assertEquals(2, failures.size(), run.err());
        assertTrue(failures.get(0).contains("tiny-glm-dsa-UD_Q2_K_XL.gguf: mean KLD"), failures.get(0));
        assertTrue(failures.get(1).contains("same top token"), failures.get(1));
    }

    @Test
    void aBaselineFailsAModelThatGotWorse() throws Exception {
        Path before = dir.resolve("before.json");
        assertEquals(0, compare("-m", mix, "--json", before.toString()).exitCode());
        assertEquals(0, compare("-m", mix, "--baseline", before.toString()).exitCode(), "the same model is no worse");
        ObjectNode better = (ObjectNode) JSON.readTree(before.toFile());
        ((ObjectNode) better.at("/models/0/statistics/kld")).put("value", 0.0).put("uncertainty", 0.0);
        Path improved = Files.writeString(dir.resolve("better.json"), better.toString());
        Run run = compare("-m", mix, "--baseline", improved.toString());
        assertEquals(1, run.exitCode(), run.err());
        assertTrue(run.err().contains("FAIL tiny-glm-dsa-UD_Q2_K_XL.gguf: mean KLD"), run.err());
        assertTrue(run.err().contains("is worse than the baseline's 0.000000"), run.err());

        ((ObjectNode) better.at("/reference")).put("tokens_sha256", "0");
        Path other = Files.writeString(dir.resolve("other.json"), better.toString());
        Run refused = compare("-m", mix, "--baseline", other.toString());
        assertEquals(2, refused.exitCode());
        assertTrue(refused.err().contains("was measured on another base"), refused.err());
    }

    @Test
    void plotsArePngOrSvgWithTheWeightErrors() throws Exception {
        Path weights = dir.resolve("weights.json");
        List<ModelWeightErrors.TensorError> tensors = List.of(
                new ModelWeightErrors.TensorError("blk.0.attn_q_a.weight", "q2_K", TensorKind.ATTENTION, 0,
                        new WeightError(100, 4, 4.1, 3.9, 0.04, 0.3)),
                new ModelWeightErrors.TensorError("blk.1.attn_q_a.weight", "q2_K", TensorKind.ATTENTION, 1,
                        new WeightError(100, 4, 4.2, 3.8, 0.16, 0.5)));
        try (var writer = Files.newBufferedWriter(weights)) {
            new WeightReport(Path.of("ckpt"), List.of(new ModelWeightErrors(Path.of(mix), 1000, 2000, 1.0, tensors, List.of())))
                    .writeJson(writer);
        }
        Path png = dir.resolve("quality.png"), svg = dir.resolve("quality.svg");
        assertEquals(0, compare("-m", mix, "--plot", png.toString(), "--weights", weights.toString()).exitCode());
        assertEquals(0, compare("-m", mix, "--plot", svg.toString()).exitCode());
        byte[] header = Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10}, header);
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertTrue(image.getWidth() > 2 * image.getHeight(), "three charts side by side");
        String drawing = Files.readString(svg, StandardCharsets.UTF_8);
        assertTrue(drawing.contains("<svg"), drawing.substring(0, Math.min(200, drawing.length())));
        Run wrong = compare("-m", mix, "--plot", dir.resolve("quality.jpg").toString());
        assertEquals(2, wrong.exitCode());
        assertTrue(wrong.err().contains("must end in .png or .svg"), wrong.err());
        Run notAReport = compare("-m", mix, "--plot", png.toString(), "--weights", base.toString());
        assertEquals(2, notAReport.exitCode());
        assertTrue(notAReport.err().contains("not valid JSON"), notAReport.err());
    }

    @Test
    void anInterruptedReferenceResumesToTheSameFile() throws Exception {
        byte[] whole = Files.readAllBytes(base);
        Path target = dir.resolve("resumed.kld");
        Files.write(KldBaseWriter.partialOf(target), Arrays.copyOf(whole, whole.length / 2 + 12345));
        Run run = glmj("quality", "reference", "-m", reference, "-f", text.toString(), "-c", "64", "--chunks", "4", "-t", "2",
                "-o", target.toString(), "--resume");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("resuming after 2 of 4 chunks"), run.err());
        assertArrayEquals(whole, Files.readAllBytes(target));
        Run again = glmj("quality", "reference", "-m", reference, "-f", text.toString(), "-c", "64", "--chunks", "4",
                "-o", target.toString(), "--resume");
        assertEquals(0, again.exitCode(), again.err());
        assertTrue(again.out().contains("complete already"), again.out());
    }

    /**
     * The FP8 checkpoint itself as the reference: run layer by layer (its default) it writes the very base it writes
     * chunk after chunk, and an interrupted run resumes to the same file.
     */
    @Test
    void theCheckpointIsAReferenceLayerByLayer() throws Exception {
        String checkpoint = TestModels.tinyCheckpoint().toString();
        Path layered = dir.resolve("fp8.kld"), whole = dir.resolve("fp8-whole.kld");
        Run run = glmj("quality", "reference", "-m", checkpoint, "-f", text.toString(), "-c", "64", "--chunks", "3", "-t", "2",
                "-o", layered.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("run by java/"), run.out());
        assertTrue(run.out().contains("/exact, layer by layer"), run.out());
        assertFalse(Files.exists(dir.resolve("fp8.kld.layers")), "a finished run deletes its layer state");
        Run chunkAfterChunk = glmj("quality", "reference", "-m", checkpoint, "-f", text.toString(), "-c", "64", "--chunks", "3",
                "-t", "2", "--no-layer-by-layer", "-o", whole.toString());
        assertEquals(0, chunkAfterChunk.exitCode(), chunkAfterChunk.err());
        assertEquals(-1, Files.mismatch(layered, whole), "layer by layer and chunk after chunk write the same base");

        Path resumed = dir.resolve("fp8-resumed.kld");
        byte[] bytes = Files.readAllBytes(layered);
        Files.write(KldBaseWriter.partialOf(resumed), Arrays.copyOf(bytes, bytes.length / 2));
        Run again = glmj("quality", "reference", "-m", checkpoint, "-f", text.toString(), "-c", "64", "--chunks", "3", "-t", "2",
                "-o", resumed.toString(), "--resume");
        assertEquals(0, again.exitCode(), again.err());
        assertTrue(again.err().contains("resuming after 1 of 3 chunks"), again.err());
        assertArrayEquals(bytes, Files.readAllBytes(resumed));

        Run generated = glmj("run", "-m", checkpoint, "-c", "64", "-t", "2", "--raw", "--temp", "0", "-n", "4", "-p", "Call me Ishmael.");
        assertEquals(0, generated.exitCode(), generated.err());
    }

    @Test
    void badInputIsOneLineWithExitCode2() throws Exception {
        Run shortText = glmj("quality", "reference", "-m", mix, "-f", text.toString(), "-c", "4000", "-o", dir.resolve("x.kld").toString());
        assertEquals(2, shortText.exitCode());
        assertTrue(shortText.err().contains("needs at least 8000"), shortText.err());
        assertEquals(1, shortText.err().lines().count(), shortText.err());

        Path cut = Files.write(dir.resolve("cut.kld"), Arrays.copyOf(Files.readAllBytes(base), 5_000_000));
        Run cutBase = glmj("quality", "compare", "--reference", cut.toString(), "-m", mix);
        assertEquals(2, cutBase.exitCode());
        assertTrue(cutBase.err().contains("cut short"), cutBase.err());
        assertEquals(1, cutBase.err().lines().count(), cutBase.err());

        Run notABase = glmj("quality", "compare", "--reference", text.toString(), "-m", mix);
        assertEquals(2, notABase.exitCode());
        assertTrue(notABase.err().contains("not a KL-divergence base"), notABase.err());

        Path directory = Files.createDirectory(dir.resolve("empty"));
        Run intoADirectory = glmj("quality", "reference", "-m", mix, "-f", text.toString(), "-c", "64", "--chunks", "1",
                "-o", directory.toString());
        assertEquals(2, intoADirectory.exitCode());
        assertEquals("glmj: " + directory + " is not a regular file: name a file to write\n", intoADirectory.err());
        assertTrue(Files.isDirectory(directory), "the empty directory is not replaced by the base");
        assertFalse(Files.exists(KldBaseWriter.partialOf(directory)));
    }
}
