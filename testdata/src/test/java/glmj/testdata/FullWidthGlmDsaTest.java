package glmj.testdata;

import glmj.gguf.GGUFFile;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;
import glmj.testdata.GlmDsaGenerator.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GLM-5 at its real widths: its tensor list and sizes are checked without writing it (241 GB), and the same design is
 * generated at test size through the code that writes the full one.
 */
class FullWidthGlmDsaTest {
    private static final FullWidthGlmDsa.UnslothUdQ2KXl MIX = new FullWidthGlmDsa.UnslothUdQ2KXl();

    @Test
    void allOfGlm5HasItsFilesTensorsAndSize() {
        GlmDsaShape shape = FullWidthGlmDsa.shape(FullWidthGlmDsa.GLM_5);
        // Unsloth's GLM-5.2 UD-Q2_K_XL holds 1,809 tensors: 3 dense blocks, 75 MoE blocks and the MTP block
        assertEquals(1809, GlmDsaGenerator.tensors(shape, FullWidthGlmDsa.VOCABULARY_SIZE).size());
        assertEquals(79, shape.fileBlockCount());
        double gigabytes = FullWidthGlmDsa.tensorBytes(FullWidthGlmDsa.GLM_5) / 1e9;
        // Unsloth's GLM-5 UD-Q2_K_XL is 241 GB; Q2_K/Q3_K experts would make about 275 GB
        assertTrue(gigabytes > 230 && gigabytes < 260, gigabytes + " GB");
    }

    @Test
    void aFewBlocksMakeATestFileOfEightGigabytesOrMore() {
        double gigabytes = FullWidthGlmDsa.tensorBytes(new FullWidthGlmDsa.Layers(4, 2, 1)) / 1e9;
        assertTrue(gigabytes > 11 && gigabytes < 12.5, gigabytes + " GB");
        assertEquals(new FullWidthGlmDsa.Layers(4, 3, 1), FullWidthGlmDsa.Layers.of(4));
        assertEquals(new FullWidthGlmDsa.Layers(2, 1, 1), FullWidthGlmDsa.Layers.of(2));
        assertEquals(new FullWidthGlmDsa.Layers(1, 0, 1), FullWidthGlmDsa.Layers.of(1));
        assertThrows(IllegalArgumentException.class, () -> new FullWidthGlmDsa.Layers(2, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new FullWidthGlmDsa.Layers(2, 1, 2));
    }

    @Test
    void theMixFollowsUnslothsUdQ2KXl() {
        assertEquals(GGMLType.IQ2_XS, MIX.typeOf(Role.EXPERT_GATE_UP, 3));
        assertEquals(GGMLType.IQ3_XXS, MIX.typeOf(Role.EXPERT_DOWN, 3));
        assertEquals(GGMLType.IQ4_XS, MIX.typeOf(Role.EXPERT_DOWN, 8));
        assertEquals(GGMLType.IQ4_XS, MIX.typeOf(Role.EXPERT_DOWN, 77));
        assertEquals(GGMLType.IQ3_XXS, MIX.typeOf(Role.EXPERT_DOWN, 78), "the MTP block");
        assertEquals(GGMLType.Q6_K, MIX.typeOf(Role.SHARED_DOWN, 3));
        assertEquals(GGMLType.Q8_0, MIX.typeOf(Role.SHARED_DOWN, 8));
        assertEquals(GGMLType.Q8_0, MIX.typeOf(Role.ATTN_K_B, 0), "rows of 192 take Q8_0: no fallback needed");
        assertEquals(GGMLType.F32, MIX.typeOf(Role.ROUTER, 3));
    }

    @Test
    void everyRunWritesTheSameBytes(@TempDir Path dir) throws IOException {
        Path fresh = dir.resolve("fresh.gguf");
        FullWidthGlmDsa.writeMiniature(fresh);
        assertEquals(-1, Files.mismatch(fresh, TestModels.fullWidthMiniature()), "fresh file differs from the cached one");
    }

    /** The test-size design is GLM-5's file layout: an MTP block, the padded vocabulary, no indexer.types key. */
    @Test
    void theTestSizeDesignHasGlm5sLayout() throws IOException {
        try (GGUFFile gguf = GGUFFile.open(TestModels.fullWidthMiniature())) {
            Metadata m = gguf.metadata();
            assertEquals(4, m.getInt("glm-dsa.block_count"));
            assertEquals(1, m.getInt("glm-dsa.nextn_predict_layers"));
            assertFalse(m.has("glm-dsa.attention.indexer.types"));
            assertEquals(FullWidthGlmDsa.CONTEXT_LENGTH, m.getInt("glm-dsa.context_length"));
            String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertEquals(FullWidthGlmDsa.VOCABULARY_SIZE, tokens.length);
            assertEquals("[PAD" + (tokens.length - 1) + "]", tokens[tokens.length - 1]);
            assertEquals(GlmVocabulary.TOKEN_TYPE_UNUSED, types[types.length - 1]);
            assertEquals(FullWidthGlmDsa.VOCABULARY_SIZE, gguf.tensor("output.weight").dim(1));
            assertArrayEquals(new long[] {2 * 256, 256}, gguf.tensor("blk.3.nextn.eh_proj.weight").shape());
            assertEquals(GGMLType.IQ2_XS, gguf.tensor("blk.3.ffn_up_exps.weight").type());
            assertEquals(GGMLType.IQ3_XXS, gguf.tensor("blk.1.ffn_down_exps.weight").type());
            assertEquals(GGMLType.Q4_K, gguf.tensor("output.weight").type());
        }
    }

    /** Random blocks keep each matrix at the scale of the floats the other models draw: rms 1/sqrt(row length). */
    @Test
    void matricesHaveTheScaleOfTheFloatWeights() throws IOException {
        try (GGUFFile gguf = GGUFFile.open(TestModels.fullWidthMiniature())) {
            for (TensorInfo t : gguf.tensors()) {
                if (t.type() == GGMLType.F32) {
                    continue;
                }
                int n = (int) Math.min(t.elementCount(), 1 << 16);
                float[] w = new float[n];
                t.type().dequantize(t.data(), 0, w, 0, n);
                double squares = 0;
                for (float v : w) {
                    squares += (double) v * v;
                }
                double expected = t.name().equals("token_embd.weight") ? 1.0 : 1.0 / Math.sqrt(t.rowLength());
                assertEquals(expected, Math.sqrt(squares / n), 0.1 * expected, t.name());
            }
        }
    }
}
