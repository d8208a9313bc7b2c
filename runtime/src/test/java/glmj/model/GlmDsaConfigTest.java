package glmj.model;

import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hyperparameters come from the metadata, with llama.cpp's defaults and derived values. */
class GlmDsaConfigTest {
    @TempDir
    Path dir;

    private GGUFWriter base(int contextLength) {
        String a = "glm-dsa.";
        return new GGUFWriter()
                .putString("general.architecture", "glm-dsa")
                .putUInt32(a + "block_count", 7)
                .putUInt32(a + "nextn_predict_layers", 1)
                .putUInt32(a + "context_length", contextLength)
                .putUInt32(a + "embedding_length", 64)
                .putUInt32(a + "feed_forward_length", 96)
                .putUInt32(a + "attention.head_count", 2)
                .putFloat32(a + "attention.layer_norm_rms_epsilon", 1e-5f)
                .putUInt32(a + "attention.q_lora_rank", 32)
                .putUInt32(a + "attention.kv_lora_rank", 16)
                .putUInt32(a + "attention.key_length", 24)
                .putUInt32(a + "attention.key_length_mla", 12)
                .putUInt32(a + "attention.value_length_mla", 8)
                .putUInt32(a + "rope.dimension_count", 4)
                .putUInt32(a + "attention.indexer.head_count", 2)
                .putUInt32(a + "attention.indexer.key_length", 64)
                .putUInt32(a + "attention.indexer.top_k", 8)
                .putUInt32(a + "expert_count", 4)
                .putUInt32(a + "expert_used_count", 2)
                .putUInt32(a + "expert_feed_forward_length", 16)
                .putUInt32(a + "expert_shared_count", 1)
                .putUInt32(a + "leading_dense_block_count", 1);
    }

    private GlmDsaConfig read(GGUFWriter w) throws IOException {
        Path file = dir.resolve("m.gguf");
        w.write(file);
        try (GGUFFile gguf = GGUFFile.open(file)) {
            return GlmDsaConfig.from(gguf.metadata(), 100);
        }
    }

    @Test
    void readsShapesAndAppliesLlamaCppDefaults() throws IOException {
        GlmDsaConfig c = read(base(4096));
        assertEquals(6, c.layerCount(), "the nextn layer is not part of the trunk");
        assertEquals(8, c.ropeFreeLength());
        assertArrayEquals(new boolean[]{true, true, true, true, true, true}, c.indexerFull(),
                "a model trained on under 1M tokens is GLM-5/5.1: every indexer full");
        assertTrue(c.expertGatingSigmoid(), "sigmoid when expert_gating_func is absent");
        assertEquals(10000f, c.rope().freqBase());
        assertEquals(0f, c.rope().extFactor());
        assertEquals(0f, c.indexerKeyNormEps(), "llama.cpp reads no LayerNorm eps for glm-dsa");
        assertEquals((float) (1 / Math.sqrt(12)), c.attentionScale(), 1e-7f);
        assertTrue(!c.isMoe(0) && c.isMoe(1));
    }

    @Test
    void glm52WithoutIndexerTypesUsesLlamaCppsDefaultPattern() throws IOException {
        GlmDsaConfig c = read(base(1 << 20));
        assertArrayEquals(new boolean[]{true, true, true, false, false, false}, c.indexerFull());
    }

    @Test
    void indexerTypesFromTheFileWin() throws IOException {
        GlmDsaConfig c = read(base(4096).putArray("glm-dsa.attention.indexer.types", GGUFValueType.BOOL,
                new boolean[]{true, false, true, false, false, true, true}));
        assertArrayEquals(new boolean[]{true, false, true, false, false, true}, c.indexerFull());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(base(4096).putArray(
                "glm-dsa.attention.indexer.types", GGUFValueType.BOOL, new boolean[]{false, true, true, true, true, true})));
        assertTrue(e.getMessage().contains("layer 0"), e.getMessage());
    }

    @Test
    void yarnScalingSetsRopeAndAttentionScale() throws IOException {
        GlmDsaConfig c = read(base(4096).putString("glm-dsa.rope.scaling.type", "yarn")
                .putFloat32("glm-dsa.rope.scaling.factor", 40f)
                .putUInt32("glm-dsa.rope.scaling.original_context_length", 4096));
        assertEquals(1f / 40f, c.rope().freqScale());
        assertEquals(1f, c.rope().extFactor());
        assertEquals(1f, c.rope().attnFactor(), 1e-6f, "llama.cpp cancels the magnitude factor rope applies");
        double mscale = 1 + 0.1 * Math.log(40);
        assertEquals(mscale * mscale / Math.sqrt(12), c.attentionScale(), 1e-6);
    }

    @Test
    void anotherArchitectureIsRefused() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> read(base(4096).putString("general.architecture", "llama")));
        assertTrue(e.getMessage().contains("'llama'"), e.getMessage());
    }
}
