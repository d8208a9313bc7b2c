package glmj.quant;

import glmj.model.GlmDsaConfig;
import glmj.model.KvCache;
import glmj.tensor.GGMLType;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in recipes on GLM-5's own tensors (a checkpoint of GLM-5's shapes whose files hold no data): every tensor
 * has a rule, the files come out at the sizes docs/quantize.md and the recipes' descriptions give, and Q2_K_XL leaves
 * room on a 256 GB Mac.
 */
class Glm5RecipesTest {
    /** Each recipe's file size in GB (10^9 bytes), as its description says it, within 1 GB. */
    private static final Map<String, Double> SIZES = Map.of("Q2_K_XL", 246.0, "Q3_K_XL", 365.0, "Q4_K_M", 455.0, "Q8_0", 801.0);

    @Test
    void recipesCoverGlm5AtTheirStatedSizes() throws IOException {
        Map<String, Double> sizes = new TreeMap<>();
        try (ModelSource source = ModelSource.open(TestModels.glm5Shapes(), "GLM-5")) {
            for (Recipe recipe : Recipes.builtIn()) {
                var metadata = source.metadata(recipe.fileType()).metadata(source.path());
                QuantizationPlan plan = QuantizationPlan.of(recipe, source.tensors(), LayerLayout.of(metadata));
                long size = new ModelWriter(source, plan, null, null).gguf().fileSize();
                Map<String, Integer> fallbacks = new TreeMap<>();
                plan.entries().stream().filter(QuantizationPlan.Entry::fellBack)
                        .forEach(e -> fallbacks.merge(e.requested().ggmlName + "->" + e.type().ggmlName, 1, Integer::sum));
                long perToken = KvCache.bytes(GlmDsaConfig.from(metadata, 154_880), 1);
                System.out.printf(Locale.ROOT, "%-8s %7.1f GB %7.1f GiB %5.2f bpw, resident %6.1f GiB + %d KiB/token, fallbacks %s%n",
                        recipe.name(), size / 1e9, size / (double) (1L << 30), plan.bitsPerWeight(), plan.residentBytes() / (double) (1L << 30),
                        perToken >> 10, fallbacks);
                if (SIZES.containsKey(recipe.name())) {
                    sizes.put(recipe.name(), size / 1e9);
                }
                if (recipe.name().equals("Q2_K_XL")) {
                    assertTrue(plan.residentBytes() < 240L << 30, "fits a 256 GiB Mac with room for the system and cache");
                    assertEquals(GGMLType.IQ2_XXS, type(plan, "blk.40.ffn_gate_exps.weight"));
                    assertEquals(GGMLType.Q2_K, type(plan, "blk.78.ffn_gate_exps.weight"), "the MTP block");
                    assertEquals(GGMLType.Q8_0, type(plan, "blk.40.attn_k_b.weight"));
                }
                if (recipe.name().equals("Q4_K_M")) {
                    assertEquals(GGMLType.Q5_0, type(plan, "blk.40.attn_k_b.weight"), "rows of 192 fall back as in llama-quantize");
                }
            }
        }
        SIZES.forEach((name, gb) -> assertEquals(gb, sizes.get(name), 1.0, name + " in GB"));
    }

    private static GGMLType type(QuantizationPlan plan, String name) {
        return plan.entries().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow().type();
    }
}
