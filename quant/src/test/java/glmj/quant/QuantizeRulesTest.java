package glmj.quant;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;

import static glmj.quant.QuantizeRules.allowsQuantization;
import static glmj.quant.QuantizeRules.fallback;
import static glmj.quant.QuantizeRules.requiresImportance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizeRulesTest {
    @Test
    void llamaQuantizeQuantizesTheMatricesButNormsRouterAndVectors() {
        long[] matrix = {6144, 2048};
        assertTrue(allowsQuantization("blk.3.ffn_gate_exps.weight", new long[] {6144, 2048, 256}));
        assertTrue(allowsQuantization("blk.0.indexer.proj.weight", new long[] {6144, 32}), "llama-quantize quantizes it, the converter does not");
        assertTrue(allowsQuantization("token_embd.weight", matrix));
        assertTrue(allowsQuantization("output.weight", matrix));
        assertFalse(allowsQuantization("blk.3.ffn_gate_inp.weight", new long[] {6144, 256}), "the router");
        assertFalse(allowsQuantization("blk.0.attn_q_a_norm.weight", new long[] {2048}));
        assertFalse(allowsQuantization("blk.0.indexer.k_norm.bias", new long[] {128}));
        assertFalse(allowsQuantization("blk.3.exp_probs_b.bias", new long[] {256}));
        assertFalse(allowsQuantization("blk.0.some.weight", new long[] {6144, 1}), "ggml counts it as one dimension");
        assertFalse(allowsQuantization("blk.0.attn_norm.weight", matrix));
    }

    @Test
    void rowsThatAreNotWholeBlocksFallBackAsInLlamaQuantize() {
        assertEquals(GGMLType.Q4_K, fallback(GGMLType.Q4_K, 6144));
        assertEquals(GGMLType.Q5_0, fallback(GGMLType.Q4_K, 192), "attn_k_b of GLM-5");
        assertEquals(GGMLType.Q4_0, fallback(GGMLType.Q2_K, 576));
        assertEquals(GGMLType.Q4_0, fallback(GGMLType.Q3_K, 576));
        assertEquals(GGMLType.Q5_1, fallback(GGMLType.Q5_K, 576));
        assertEquals(GGMLType.Q8_0, fallback(GGMLType.Q6_K, 576));
        for (GGMLType iq : new GGMLType[] {GGMLType.IQ1_S, GGMLType.IQ1_M, GGMLType.IQ2_XXS, GGMLType.IQ2_XS, GGMLType.IQ2_S,
                GGMLType.IQ3_XXS, GGMLType.IQ3_S, GGMLType.IQ4_XS}) {
            assertEquals(GGMLType.IQ4_NL, fallback(iq, 576), iq.ggmlName);
        }
        assertEquals(GGMLType.F16, fallback(GGMLType.Q4_K, 100), "not even the fallback fits");
        assertEquals(GGMLType.F16, fallback(GGMLType.Q8_0, 100), "a 32-block type goes straight to F16");
        assertEquals(GGMLType.BF16, fallback(GGMLType.BF16, 100));
        assertThrows(IllegalArgumentException.class, () -> fallback(GGMLType.Q8_K, 100));
    }

    @Test
    void importanceIsRequiredAsLlamaQuantizeRequiresIt() {
        String expert = "blk.3.ffn_gate_exps.weight";
        for (GGMLType t : new GGMLType[] {GGMLType.IQ1_S, GGMLType.IQ1_M, GGMLType.IQ2_XXS, GGMLType.IQ2_XS, GGMLType.IQ2_S,
                GGMLType.IQ3_XXS}) {
            assertTrue(requiresImportance(expert, t, FileType.Q2_K), t.ggmlName);
            assertFalse(requiresImportance("output.weight", t, FileType.Q2_K), "never the output head");
            assertFalse(requiresImportance("token_embd.weight", t, FileType.Q2_K), "never the embeddings");
        }
        assertFalse(requiresImportance(expert, GGMLType.IQ3_S, FileType.Q2_K));
        assertFalse(requiresImportance(expert, GGMLType.Q2_K, FileType.Q2_K));
        assertTrue(requiresImportance(expert, GGMLType.Q2_K, FileType.Q2_K_S), "Q2_K in a Q2_K_S file");
    }
}
