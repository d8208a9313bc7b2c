package glmj.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import glmj.hf.CheckpointFormatException;
import glmj.hf.CheckpointTensor;
import glmj.hf.HfCheckpoint;
import glmj.testdata.SafetensorsWriter;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsaCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

class GlmDsaTensorMapTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void everyWeightOfTheTinyCheckpointMapsToItsGgufTensor() throws IOException {
        try (HfCheckpoint c = HfCheckpoint.open(TestModels.tinyCheckpoint())) {
            GlmDsaTensorMap map = GlmDsaTensorMap.of(c);
            Map<String, ConvertedTensor> byName = map.tensors().stream()
                    .collect(Collectors.toMap(ConvertedTensor::name, t -> t));
            // embeddings, output norm and head; per block 14 attention and indexer tensors and ffn_norm; 3 dense or 8 MoE
            // FFN tensors; the MTP layer's 4
            assertEquals(3 + 4 * 15 + 3 + 3 * 8 + 4, map.tensors().size());
            assertEquals("token_embd.weight", map.tensors().getFirst().name());
            assertEquals("output.weight", map.tensors().getLast().name());
            assertShape(byName, "token_embd.weight", 256, TinyGlmDsaCheckpoint.VOCABULARY_SIZE);
            assertShape(byName, "blk.0.attn_q_b.weight", TinyGlmDsaCheckpoint.Q_LORA_RANK, 4 * 96);
            assertShape(byName, "blk.0.attn_k_b.weight", 64, 512, 4);
            assertShape(byName, "blk.0.attn_v_b.weight", 512, 128, 4);
            assertShape(byName, "blk.1.ffn_down_exps.weight", 256, 256, 8);
            assertShape(byName, "blk.1.exp_probs_b.bias", 8);
            assertShape(byName, "blk.3.nextn.eh_proj.weight", 512, 256);
            assertFalse(byName.containsKey("blk.3.nextn.embed_tokens.weight"), "GLM-5 shares the embeddings with its MTP layer");

            CheckpointTensor kvB = c.weights().get("model.layers.2.self_attn.kv_b_proj.weight");
            float[] row = new float[512];
            // attn_k_b row c + 512 h is column c of head h's 64 nope rows
            byName.get("blk.2.attn_k_b.weight").readRows(3 + 512 * 2, 1, row, 0);
            for (int n = 0; n < 64; n++) {
                assertEquals(kvB.get(2 * (64 + 128) + n, 3), row[n]);
            }
            // runs of rows across heads' edges, into the middle of an array, as the weight comparison reads chunks
            for (int[] run : new int[][]{{500, 40}, {0, 2048}, {1023, 1025}}) {
                float[] rows = new float[7 + run[1] * 64];
                byName.get("blk.2.attn_k_b.weight").readRows(run[0], run[1], rows, 7);
                for (int r = run[0]; r < run[0] + run[1]; r++) {
                    for (int n = 0; n < 64; n++) {
                        assertEquals(kvB.get(r / 512 * (64 + 128) + n, r % 512), rows[7 + (r - run[0]) * 64 + n], "row " + r + " value " + n);
                    }
                }
            }
            // attn_v_b row j + 128 h is kv_b row h * 192 + 64 + j
            float[] expected = new float[512];
            byName.get("blk.2.attn_v_b.weight").readRows(5 + 128 * 3, 1, row, 0);
            kvB.read(3 * 192 + 64 + 5, 0, expected, 0, 512);
            assertArrayEquals(expected, row);
            // ffn_up_exps row o + 256 e is row o of expert e
            byName.get("blk.2.ffn_up_exps.weight").readRows(7 + 256 * 6, 1, row, 0);
            c.weights().get("model.layers.2.mlp.experts.6.up_proj.weight").read(7, 0, expected, 0, 256);
            assertArrayEquals(Arrays.copyOf(expected, 256), Arrays.copyOf(row, 256));

            long stored = c.storedBytes();
            assertEquals(stored, map.sourceBytes(), 2.0 * map.tensors().size(), "every checkpoint byte is read once");
        }
    }

    @Test
    void aConfigThatDisagreesWithTheWeightsIsRefusedNamingTheTensor() throws IOException {
        assertEquals(dir + ": tensor 'model.layers.0.mlp.gate.weight' is missing; config.json's GLM-5 needs it",
                refusal(config -> config.put("first_k_dense_replace", 0)));
        assertEquals(dir + ": tensor 'model.layers.1.mlp.gate.weight' has shape [8, 256]; config.json's sizes give [9, 256]",
                refusal(config -> config.put("n_routed_experts", 9)));
        assertEquals(dir + ": tensor 'model.layers.0.self_attn.q_a_proj.weight' has shape [576, 256]; config.json's sizes give "
                + "[512, 256]", refusal(config -> config.put("q_lora_rank", 512)));
        assertEquals(dir.resolve("config.json") + ": model_type 'llama' is not GLM-5's; glmj converts glm_moe_dsa "
                + "(GlmMoeDsaForCausalLM) checkpoints", refusal(config -> {
                    config.put("model_type", "llama");
                    config.putArray("architectures").add("LlamaForCausalLM");
                }));
        String mtp = refusal(config -> config.put("num_nextn_predict_layers", 0));
        assertTrue(mtp.matches(java.util.regex.Pattern.quote(dir.toString())
                + ": \\d+ checkpoint tensors have no glm-dsa counterpart: (model\\.layers\\.3\\.[a-z_.0-9]+, ){8}\\.\\.\\."), mtp);
    }

    @Test
    void aWeightWithoutCounterpartIsNamed() throws IOException {
        Path tiny = TestModels.tinyCheckpoint();
        linkCheckpoint(tiny, config -> { });
        SafetensorsWriter extra = new SafetensorsWriter();
        extra.add("model.layers.0.self_attn.rotary_emb.scale", "F32", 4, 4);
        extra.open(dir.resolve("model-extra.safetensors")).close();
        ObjectNode index = (ObjectNode) JSON.readTree(tiny.resolve(HfCheckpoint.INDEX).toFile());
        ((ObjectNode) index.get("weight_map")).put("model.layers.0.self_attn.rotary_emb.scale", "model-extra.safetensors");
        Files.delete(dir.resolve(HfCheckpoint.INDEX));
        JSON.writeValue(dir.resolve(HfCheckpoint.INDEX).toFile(), index);
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> GlmDsaTensorMap.of(c));
            assertEquals(dir + ": 1 checkpoint tensor has no glm-dsa counterpart: model.layers.0.self_attn.rotary_emb.scale",
                    e.getMessage());
        }
    }

    @Test
    void indexerTypesFollowTransformersConfig() {
        Path file = Path.of("config.json");
        ObjectNode config = JSON.createObjectNode().put("model_type", "glm_moe_dsa").put("num_hidden_layers", 6);
        assertEquals(List.of(true, true, true, true, true, true), GlmMoeDsaConfig.of(file, config).indexerFull(), "every layer by default");
        config.put("index_topk_freq", 4);
        assertEquals(List.of(true, true, false, false, false, true), GlmMoeDsaConfig.of(file, config).indexerFull());
        config.put("index_topk_pattern", "FSFSSF");
        assertEquals(List.of(true, false, true, false, false, true), GlmMoeDsaConfig.of(file, config).indexerFull());
        config.putArray("indexer_types").add("full").add("shared").add("shared").add("full").add("shared").add("full");
        GlmMoeDsaConfig types = GlmMoeDsaConfig.of(file, config);
        assertEquals(List.of(true, false, false, true, false, true), types.indexerFull());
        assertFalse(types.hasIndexer(1));
        config.put("num_nextn_predict_layers", 1);
        assertTrue(GlmMoeDsaConfig.of(file, config).hasIndexer(6), "an MTP layer has its own indexer");
        config.put("num_hidden_layers", 5);
        assertEquals("config.json: the indexer types name 6 layers, num_hidden_layers is 5",
                assertThrows(CheckpointFormatException.class, () -> GlmMoeDsaConfig.of(file, config)).getMessage());
    }

    private String refusal(Consumer<ObjectNode> edit) throws IOException {
        linkCheckpoint(TestModels.tinyCheckpoint(), edit);
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            return assertThrows(CheckpointFormatException.class, () -> GlmDsaTensorMap.of(c)).getMessage();
        }
    }

    /** {@link #dir} as the tiny checkpoint with its files linked, but for config.json, edited. */
    private void linkCheckpoint(Path tiny, Consumer<ObjectNode> edit) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        try (var files = Files.list(tiny)) {
            for (Path p : files.toList()) {
                if (!p.getFileName().toString().equals(HfCheckpoint.CONFIG)) {
                    Files.createSymbolicLink(dir.resolve(p.getFileName()), p);
                }
            }
        }
        ObjectNode config = (ObjectNode) JSON.readTree(tiny.resolve(HfCheckpoint.CONFIG).toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve(HfCheckpoint.CONFIG).toFile(), config);
    }

    private static void assertShape(Map<String, ConvertedTensor> byName, String name, long... shape) {
        assertArrayEquals(shape, byName.get(name).shape(), name);
    }
}
