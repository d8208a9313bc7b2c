package glmj.quant;

import glmj.gguf.GGUFFile;
import glmj.kernel.VectorKernels;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.quant.imatrix.ImportanceRun;
import glmj.tensor.GGMLType;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SizeTargetTest {
    @TempDir
    static Path dir;
    private static Path checkpoint;
    private static ImportanceMatrix importance;

    /** An importance matrix of the tiny checkpoint, collected by glmj from its F32 file on a few chunks of text. */
    @BeforeAll
    static void collect() throws IOException {
        checkpoint = TestModels.tinyCheckpoint();
        Path f32 = dir.resolve("f32.gguf");
        try (ModelSource source = ModelSource.open(checkpoint, "tiny")) {
            Recipe recipe = Recipes.resolve("F32");
            QuantizationPlan plan = QuantizationPlan.of(recipe, source.tensors(),
                    LayerLayout.of(source.metadata(recipe.fileType()).metadata(source.path())));
            new ModelWriter(source, plan, null, null).write(f32, 0, 2, ModelWriter.Progress.NONE);
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            text.append(List.of("experts", "attention", "two", "bits", "router", "tokens", "layer").get(i * 5 % 7)).append(' ');
        }
        try (GGUFFile gguf = GGUFFile.open(f32); VectorKernels kernels = new VectorKernels(2)) {
            importance = ImportanceRun.collect(gguf, kernels, ImportanceRun.tokens(gguf, text.toString(), false), "text",
                    new ImportanceRun.Settings(32, 4, false, false), (done, total, collected) -> { });
        }
    }

    private static QuantizationPlan recipePlan(ModelSource source) throws IOException {
        Recipe recipe = Recipes.resolve("Q2_K_XL");
        return QuantizationPlan.of(recipe, source.tensors(), LayerLayout.of(source.metadata(recipe.fileType()).metadata(source.path())));
    }

    private static long fileSize(ModelSource source, QuantizationPlan plan) throws IOException {
        return new ModelWriter(source, plan, importance, "im").gguf().fileSize();
    }

    @Test
    void aLargerBudgetNeverCostsLossAndTheFileFits() throws IOException {
        try (ModelSource source = ModelSource.open(checkpoint, "tiny")) {
            QuantizationPlan recipe = recipePlan(source);
            long recipeSize = fileSize(source, recipe);
            long overhead = recipeSize - recipe.tensorBytes();
            SizeTarget measured = SizeTarget.measure(recipe, importance, 2, SizeTarget.Progress.NONE);
            double previous = Double.POSITIVE_INFINITY;
            for (long target = recipeSize - 2_000_000; target <= recipeSize + 6_000_000; target += 1_000_000) {
                SizeTarget.Choice choice = measured.fit(overhead, target);
                long size = fileSize(source, choice.plan());
                assertTrue(size <= target, size + " > " + target);
                assertTrue(choice.loss() <= previous, "loss " + choice.loss() + " after " + previous + " with a smaller budget");
                previous = choice.loss();
                if (target == recipeSize) {
                    assertTrue(choice.loss() <= choice.recipeLoss(), "at the recipe's size: " + choice.loss() + " > " + choice.recipeLoss());
                }
                for (QuantizationPlan.Entry e : choice.plan().entries()) {
                    if (e.name().contains("ffn_gate")  && e.quantized() && !e.name().contains("inp")) {
                        String up = e.name().replace("ffn_gate", "ffn_up");
                        GGMLType upType = choice.plan().entries().stream().filter(u -> u.name().equals(up)).findFirst()
                                .orElseThrow().type();
                        assertEquals(e.type(), upType, "gate and up chosen together: " + e.name());
                    }
                }
                assertEquals(GGMLType.Q4_K, choice.plan().entries().stream().filter(x -> x.name().equals("token_embd.weight"))
                        .findFirst().orElseThrow().type(), "not measured: the recipe's type");
            }
            QuantizeException tooSmall = assertThrows(QuantizeException.class,
                    () -> measured.fit(overhead, 50_000_000));
            assertTrue(tooSmall.getMessage().startsWith("no mix fits in 50,000,000 bytes: with the smallest types the file takes "),
                    tooSmall.getMessage());
        }
    }

    @Test
    void measuredLossFallsAsBitsGrow() throws IOException {
        try (ModelSource source = ModelSource.open(checkpoint, "tiny")) {
            QuantizationPlan.Entry experts = recipePlan(source).entries().stream()
                    .filter(e -> e.name().equals("blk.2.ffn_down_exps.weight")).findFirst().orElseThrow();
            Map<GGMLType, Double> losses = SizeTarget.losses(experts, importance,
                    List.of(GGMLType.IQ2_XXS, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q8_0));
            List<GGMLType> order = List.of(GGMLType.IQ2_XXS, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q8_0);
            for (int i = 1; i < order.size(); i++) {
                assertTrue(losses.get(order.get(i)) < losses.get(order.get(i - 1)), losses.toString());
            }
            assertTrue(losses.get(GGMLType.Q8_0) > 0);
        }
    }

    @Test
    void theHullKeepsTheCandidatesWorthTheirBytes() {
        List<SizeTarget.Candidate> hull = SizeTarget.hull(List.of(
                new SizeTarget.Candidate(GGMLType.Q8_0, 850, 1),
                new SizeTarget.Candidate(GGMLType.Q2_K, 262, 100),
                new SizeTarget.Candidate(GGMLType.IQ3_XXS, 306, 90),   // above the line from Q2_K to Q4_K: dropped
                new SizeTarget.Candidate(GGMLType.Q4_K, 450, 20),
                new SizeTarget.Candidate(GGMLType.IQ4_XS, 425, 30),
                new SizeTarget.Candidate(GGMLType.Q5_K, 550, 25)));     // more bytes, more loss than Q4_K: dropped
        assertEquals(List.of(GGMLType.Q2_K, GGMLType.IQ4_XS, GGMLType.Q4_K, GGMLType.Q8_0),
                hull.stream().map(SizeTarget.Candidate::type).toList());
    }

    @Test
    void gateAndUpShareAGroup() {
        assertEquals("blk.3.ffn_gate_up_exps.weight", SizeTarget.groupKey("blk.3.ffn_gate_exps.weight"));
        assertEquals("blk.3.ffn_gate_up_exps.weight", SizeTarget.groupKey("blk.3.ffn_up_exps.weight"));
        assertEquals("blk.0.ffn_gate_up.weight", SizeTarget.groupKey("blk.0.ffn_up.weight"));
        assertEquals("blk.3.ffn_gate_up_shexp.weight", SizeTarget.groupKey("blk.3.ffn_gate_shexp.weight"));
        assertEquals("blk.3.ffn_down_exps.weight", SizeTarget.groupKey("blk.3.ffn_down_exps.weight"));
    }
}
