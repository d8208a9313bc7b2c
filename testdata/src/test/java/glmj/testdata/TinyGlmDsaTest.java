package glmj.testdata;

import glmj.gguf.GGUFFile;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TinyGlmDsaTest {
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void everyRunWritesTheSameBytes(@TempDir Path dir) throws IOException {
        Path fresh = dir.resolve("fresh.gguf");
        TinyGlmDsa.write(fresh, TinyGlmDsa.Variant.UD_Q2_K_XL);
        assertEquals(-1, Files.mismatch(fresh, TestModels.tinyQuantMix()), "fresh file differs from the cached one");
        assertTrue(TestModels.isCurrent(fresh));
    }

    @Test
    void metadataDescribesGlm5() throws IOException {
        try (GGUFFile file = GGUFFile.open(TestModels.tinyQuantMix())) {
            Metadata m = file.metadata();
            assertEquals("glm-dsa", m.getString("general.architecture"));
            assertEquals(TinyGlmDsa.BLOCK_COUNT, m.getInt("glm-dsa.block_count"));
            assertEquals(TinyGlmDsa.EMBEDDING_LENGTH, m.getInt("glm-dsa.embedding_length"));
            assertEquals(TinyGlmDsa.KV_LORA_RANK + TinyGlmDsa.QK_ROPE_HEAD_DIM, m.getInt("glm-dsa.attention.key_length"));
            assertEquals(TinyGlmDsa.QK_NOPE_HEAD_DIM + TinyGlmDsa.QK_ROPE_HEAD_DIM, m.getInt("glm-dsa.attention.key_length_mla"));
            assertEquals(0, m.getInt("glm-dsa.attention.indexer.key_length") % 64);
            assertEquals(2, m.getInt("glm-dsa.expert_gating_func"));
            boolean[] indexerTypes = (boolean[]) m.get("glm-dsa.attention.indexer.types");
            assertEquals(TinyGlmDsa.BLOCK_COUNT, indexerTypes.length);
            for (int il = 0; il < indexerTypes.length; il++) {
                assertEquals(TinyGlmDsa.isIndexerFull(il), indexerTypes[il]);
            }
            assertEquals("gpt2", m.getString("tokenizer.ggml.model"));
            assertEquals("glm4", m.getString("tokenizer.ggml.pre"));
            assertTrue(m.getString("tokenizer.chat_template").startsWith("[gMASK]<sop>"));

            String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertEquals(tokens.length, m.getInt("glm-dsa.vocab_size"));
            assertEquals(tokens.length, types.length);
            int firstSpecial = tokens.length - GlmVocabulary.SPECIAL_TOKENS.size();
            assertEquals(GlmVocabulary.SPECIAL_TOKENS, List.of(tokens).subList(firstSpecial, tokens.length));
            assertTrue(Arrays.stream(types, 0, firstSpecial).allMatch(t -> t == GlmVocabulary.TOKEN_TYPE_NORMAL));
            assertTrue(Arrays.stream(types, firstSpecial, types.length).allMatch(t -> t == GlmVocabulary.TOKEN_TYPE_CONTROL));
            assertEquals("[gMASK]", tokens[m.getInt("tokenizer.ggml.bos_token_id")]);
            assertEquals("<|endoftext|>", tokens[m.getInt("tokenizer.ggml.eos_token_id")]);
            assertEquals("<|user|>", tokens[m.getInt("tokenizer.ggml.eot_token_id")]);
            assertEquals("<|observation|>", tokens[m.getInt("tokenizer.ggml.eom_token_id")]);
            assertTrue(m.getStringArray("tokenizer.ggml.merges").length > 100_000);
        }
    }

    @Test
    void variantsShareNamesAndShapesAndDifferInTypes() throws IOException {
        try (GGUFFile mix = GGUFFile.open(TestModels.tinyQuantMix()); GGUFFile f32 = GGUFFile.open(TestModels.tinyF32())) {
            assertEquals(TinyGlmDsa.tensorCount(), mix.tensors().size());
            assertEquals(mix.tensors().stream().map(TensorInfo::name).toList(), f32.tensors().stream().map(TensorInfo::name).toList());
            Map<GGMLType, Integer> mixTypes = new HashMap<>();
            for (TensorInfo t : mix.tensors()) {
                assertArrayEquals(t.shape(), f32.tensor(t.name()).shape(), t.name());
                assertEquals(GGMLType.F32, f32.tensor(t.name()).type(), t.name());
                mixTypes.merge(t.type(), 1, Integer::sum);
            }
            for (GGMLType expected : List.of(GGMLType.F32, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K,
                    GGMLType.Q6_K, GGMLType.Q8_0, GGMLType.IQ4_XS)) {
                assertTrue(mixTypes.containsKey(expected), "the mix has no " + expected + " tensor: " + mixTypes);
            }
            assertEquals(GGMLType.Q2_K, mix.tensor("blk.1.ffn_gate_exps.weight").type());
            assertArrayEquals(new long[] {TinyGlmDsa.QK_NOPE_HEAD_DIM, TinyGlmDsa.KV_LORA_RANK, TinyGlmDsa.HEAD_COUNT},
                    mix.tensor("blk.1.attn_k_b.weight").shape());
            assertTrue(mix.findTensor("blk.2.indexer.proj.weight").isEmpty(), "block 2 reuses block 1's top-k");
            assertTrue(mix.findTensor("blk.3.indexer.proj.weight").isPresent());
        }
    }

    @Test
    void f32WeightsHaveTheIntendedScale() throws IOException {
        try (GGUFFile f32 = GGUFFile.open(TestModels.tinyF32())) {
            double[] gain = moments(f32.tensor("blk.0.attn_norm.weight"));
            assertEquals(1.0, gain[0], 0.02);
            assertEquals(0.05, gain[1], 0.01);
            TensorInfo matrix = f32.tensor("blk.1.ffn_down_exps.weight");
            double[] m = moments(matrix);
            assertEquals(0.0, m[0], 0.002);
            assertEquals(1.0 / Math.sqrt(matrix.shape()[0]), m[1], 0.002);
        }
    }

    /** Mean and standard deviation of an F32 tensor. */
    private static double[] moments(TensorInfo tensor) {
        long n = tensor.elementCount();
        double sum = 0;
        double sumSquares = 0;
        for (long i = 0; i < n; i++) {
            double v = tensor.data().getAtIndex(FLOAT_LE, i);
            sum += v;
            sumSquares += v * v;
        }
        double mean = sum / n;
        return new double[] {mean, Math.sqrt(sumSquares / n - mean * mean)};
    }
}
