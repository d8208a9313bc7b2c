package glmj.quant;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecipeTest {
    /** GLM-5's blocks: 3 dense, 75 MoE, 1 MTP. */
    private static final LayerLayout GLM5 = new LayerLayout(79, 3, 1);

    private static GGMLType typeOf(Recipe recipe, String tensor, LayerLayout layout) {
        return recipe.ruleFor(tensor, layout).orElseThrow().type();
    }

    @Test
    void firstMatchingRuleWinsWithPatternsAndBlockSets() {
        Recipe recipe = Recipe.parse("""
                # a comment
                name      mine
                file-type q2_k       # any case
                describe  first line
                describe  second line

                token_embd.weight                       q4_K
                blk.*.ffn_{gate,up}_exps.weight   mtp   q2_K
                blk.*.ffn_{gate,up}_exps.weight   moe:0 Q3_K
                blk.*.ffn_down_exps.weight   moe:1-2,10-  q5_K
                blk.?.ffn_down_exps.weight              iq2_xxs
                *ffn_down*                 more-bits    q6_K
                *                                       q8_0
                """, "mine.recipe", "fallback name");
        assertEquals("mine", recipe.name());
        assertEquals(FileType.Q2_K, recipe.fileType());
        assertEquals(List.of("first line", "second line"), recipe.description());
        assertEquals("first line", recipe.summary());
        assertEquals(GGMLType.Q4_K, typeOf(recipe, "token_embd.weight", GLM5));
        assertEquals(GGMLType.Q2_K, typeOf(recipe, "blk.78.ffn_gate_exps.weight", GLM5), "the MTP block");
        assertEquals(GGMLType.Q3_K, typeOf(recipe, "blk.3.ffn_up_exps.weight", GLM5), "the first MoE block");
        assertEquals(GGMLType.Q8_0, typeOf(recipe, "blk.4.ffn_up_exps.weight", GLM5));
        assertEquals(GGMLType.Q5_K, typeOf(recipe, "blk.4.ffn_down_exps.weight", GLM5), "MoE blocks 1-2");
        assertEquals(GGMLType.Q5_K, typeOf(recipe, "blk.13.ffn_down_exps.weight", GLM5), "MoE blocks from 10");
        assertEquals(GGMLType.IQ2_XXS, typeOf(recipe, "blk.7.ffn_down_exps.weight", GLM5), "? is one character");
        assertEquals(GGMLType.Q6_K, typeOf(recipe, "blk.11.ffn_down.weight", GLM5), "(11 - 79/8) % 3 == 2");
        assertEquals(GGMLType.Q8_0, typeOf(recipe, "blk.12.ffn_down_shexp.weight", GLM5));
        assertEquals(GGMLType.Q8_0, typeOf(recipe, "output.weight", GLM5), "outside the blocks no block set matches");
    }

    @Test
    void moreBitsIsLlamaQuantizesUseMoreBits() {
        for (int n : new int[] {4, 79}) {
            LayerLayout layout = new LayerLayout(n, 1, 1);
            for (int i = 0; i < n; i++) {
                boolean expected = i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
                assertEquals(expected, layout.moreBits(i), "block " + i + " of " + n);
            }
        }
        LayerLayout tiny = new LayerLayout(4, 1, 1);
        assertEquals(List.of(2, 3), java.util.stream.IntStream.range(0, 4).filter(tiny::moreBits).boxed().toList());
    }

    @Test
    void problemsNameTheFileAndLine() {
        assertProblem("r:2: unknown file type 'Q9_K'", "name x\nfile-type Q9_K\n* q8_0");
        assertProblem("r:2: 'q4_K_M' is not a type glmj quantizes to", "file-type Q4_K_M\n* q4_K_M");
        assertProblem("r:2: 'moe:x' is not a block set", "file-type Q8_0\n* moe:x q8_0");
        assertProblem("r:2: '5-3' is an empty range", "file-type Q8_0\n* 5-3 q8_0");
        assertProblem("r:2: a rule is 'PATTERN TYPE' or 'PATTERN BLOCKS TYPE', not 'a b c d'", "file-type Q8_0\na b c d");
        assertProblem("r:1: 'file-type' takes one value", "file-type Q8_0 Q4_0\n* q8_0");
        assertProblem("r: the recipe names no file type", "* q8_0");
        assertProblem("r: the recipe has no rules", "file-type Q8_0\n# nothing");
    }

    private static void assertProblem(String expectedStart, String text) {
        QuantizeException e = assertThrows(QuantizeException.class, () -> Recipe.parse(text, "r", "r"));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void builtInRecipesParseAndAreFoundByName() throws Exception {
        List<Recipe> recipes = Recipes.builtIn();
        assertEquals(Recipes.BUILT_IN, recipes.stream().map(Recipe::name).toList());
        for (Recipe recipe : recipes) {
            assertFalse(recipe.summary().isEmpty(), recipe.name());
            assertEquals("*", recipe.rules().getLast().pattern(), recipe.name() + " ends with a rule for every other tensor");
        }
        assertEquals("Q2_K_XL", Recipes.resolve("ud-q2_k_xl").name());
        assertEquals("Q4_K_M", Recipes.resolve("q4_k_m").name());
        QuantizeException unknown = assertThrows(QuantizeException.class, () -> Recipes.resolve("Q5_K_XL"));
        assertTrue(unknown.getMessage().startsWith("unknown recipe 'Q5_K_XL': neither a file nor one of the built-in recipes (Q2_K_XL,"),
                unknown.getMessage());
    }
}
