package glmj.convert;

import com.fasterxml.jackson.databind.JsonNode;
import glmj.hf.CheckpointFormatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * GLM-5's hyperparameters from a checkpoint's {@code config.json} ({@code model_type} {@code glm_moe_dsa},
 * {@code GlmMoeDsaForCausalLM}), read as transformers' {@code GlmMoeDsaConfig} (5.18) reads them, defaults included:
 * in particular {@code indexer_types} (full or shared indexer per layer) comes from the key, else from
 * {@code index_topk_pattern}, else from {@code index_topk_freq} and {@code index_skip_topk_offset} (every layer full
 * by default).
 */
public record GlmMoeDsaConfig(
        int hiddenSize, int layerCount, int nextnLayerCount, int leadingDenseLayerCount, int intermediateSize,
        int headCount, int qLoraRank, int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim,
        int expertCount, int expertUsedCount, int sharedExpertCount, int moeIntermediateSize, int expertGroupCount,
        int expertGroupUsedCount, double routedScalingFactor, boolean normTopkProb, String scoringFunction,
        int indexerHeadCount, int indexerHeadDim, int indexerTopK, List<Boolean> indexerFull,
        int vocabularySize, int maxPositionEmbeddings, double ropeTheta, double partialRotaryFactor, RopeScaling ropeScaling,
        double rmsNormEps, boolean tieWordEmbeddings) {

    public static final String MODEL_TYPE = "glm_moe_dsa";
    public static final String ARCHITECTURE = "GlmMoeDsaForCausalLM";

    public GlmMoeDsaConfig {
        indexerFull = List.copyOf(indexerFull);
    }

    /**
     * The hyperparameters of {@code config}, read from {@code file}.
     *
     * @throws CheckpointFormatException when it is not GLM-5's or a needed key is missing or not a number
     */
    public static GlmMoeDsaConfig of(Path file, JsonNode config) {
        String modelType = config.path("model_type").asText("");
        boolean architecture = false;
        for (JsonNode a : config.path("architectures")) {
            architecture |= a.asText().equals(ARCHITECTURE);
        }
        if (!modelType.equals(MODEL_TYPE) && !architecture) {
            throw new CheckpointFormatException(file, "model_type '" + modelType + "' is not GLM-5's; glmj converts "
                    + MODEL_TYPE + " (" + ARCHITECTURE + ") checkpoints");
        }
        Keys k = new Keys(file, config);
        int layers = k.integer("num_hidden_layers", 78);
        String scoring = config.path("scoring_func").asText("sigmoid");
        if (!List.of("softmax", "sigmoid", "sqrtsoftplus").contains(scoring)) {
            throw new CheckpointFormatException(file, "scoring_func '" + scoring + "' is none of llama.cpp's: softmax, sigmoid, sqrtsoftplus");
        }
        JsonNode rope = config.has("rope_parameters") ? config.get("rope_parameters") : config.path("rope_scaling");
        double ropeTheta = rope.has("rope_theta") ? k.number(rope, "rope_parameters.rope_theta")
                : k.decimal("rope_theta", 10000.0);
        double partialRotary = rope.has("partial_rotary_factor") ? k.number(rope, "rope_parameters.partial_rotary_factor") : 1.0;
        return new GlmMoeDsaConfig(
                k.integer("hidden_size", 6144), layers, k.integer("num_nextn_predict_layers", 0),
                Math.min(k.integer("first_k_dense_replace", 3), layers), k.integer("intermediate_size", 12288),
                k.integer("num_attention_heads", 64), k.integer("q_lora_rank", 2048), k.integer("kv_lora_rank", 512),
                k.integer("qk_nope_head_dim", 192), k.integer("qk_rope_head_dim", 64), k.integer("v_head_dim", 256),
                k.integer("n_routed_experts", 256), k.integer("num_experts_per_tok", 8), k.integer("n_shared_experts", 1),
                k.integer("moe_intermediate_size", 2048), k.integer("n_group", 1), k.integer("topk_group", 1),
                k.decimal("routed_scaling_factor", 2.5), config.path("norm_topk_prob").asBoolean(true),
                scoring,
                k.integer("index_n_heads", 32), k.integer("index_head_dim", 128), k.integer("index_topk", 2048),
                indexerTypes(file, config, layers), k.integer("vocab_size", 154880), k.integer("max_position_embeddings", 202752),
                ropeTheta, partialRotary, RopeScaling.of(k, rope), k.decimal("rms_norm_eps", 1e-5),
                config.path("tie_word_embeddings").asBoolean(false));
    }

    /**
     * Context extension of the rotary embedding, from {@code rope_parameters} (or {@code rope_scaling}): its type
     * ({@code linear} or {@code yarn}; null for none), factor and YaRN's optional parameters (NaN when absent).
     */
    public record RopeScaling(String type, double factor, int originalContextLength, double extrapolationFactor,
            double attentionFactor, double betaFast, double betaSlow, double mscaleAllDim) {

        private static RopeScaling of(Keys k, JsonNode rope) {
            String type = rope.has("rope_type") ? rope.get("rope_type").asText() : rope.path("type").asText("default");
            double mscaleAllDim = optional(k, rope, "mscale_all_dim");
            if (type.equals("default") || !rope.has("factor")) {
                return new RopeScaling(null, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, mscaleAllDim);
            }
            double factor = k.number(rope, "rope_parameters.factor");
            return switch (type) {
                case "linear" -> new RopeScaling(type, factor, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, mscaleAllDim);
                case "yarn" -> new RopeScaling(type, factor, (int) k.number(rope, "rope_parameters.original_max_position_embeddings"),
                        optional(k, rope, "extrapolation_factor"),
                        rope.has("attention_factor") ? optional(k, rope, "attention_factor") : optional(k, rope, "attn_factor"),
                        optional(k, rope, "beta_fast"), optional(k, rope, "beta_slow"), mscaleAllDim);
                default -> throw new CheckpointFormatException(k.file(), "rope_parameters has rope_type '" + type
                        + "'; glmj converts default, linear and yarn rotary embeddings");
            };
        }

        private static double optional(Keys k, JsonNode rope, String key) {
            return rope.has(key) && !rope.get(key).isNull() ? k.number(rope, "rope_parameters." + key) : Double.NaN;
        }
    }

    /** Blocks in the GGUF: the trunk's layers and then the MTP layers. */
    public int blockCount() {
        return layerCount + nextnLayerCount;
    }

    /** Whether layer {@code layer} is an MTP (NextN) layer, appended after the trunk. */
    public boolean isNextn(int layer) {
        return layer >= layerCount;
    }

    /** Whether layer {@code layer} has its own indexer; MTP layers always do. */
    public boolean hasIndexer(int layer) {
        return isNextn(layer) || indexerFull.get(layer);
    }

    public boolean isDense(int layer) {
        return layer < leadingDenseLayerCount;
    }

    private static List<Boolean> indexerTypes(Path file, JsonNode config, int layers) {
        List<Boolean> full = new ArrayList<>();
        JsonNode types = config.get("indexer_types");
        JsonNode pattern = config.get("index_topk_pattern");
        if (types != null && !types.isNull()) {
            types.forEach(t -> full.add(t.asText().equals("full")));
        } else if (pattern != null && pattern.isTextual()) {
            pattern.asText().chars().forEach(c -> full.add(c == 'F'));
        } else if (pattern != null && pattern.isArray()) {
            pattern.forEach(t -> full.add(t.asText().equals("full")));
        } else {
            Keys k = new Keys(file, config);
            int frequency = Math.max(k.integer("index_topk_freq", 1), 1);
            int offset = k.integer("index_skip_topk_offset", 2);
            for (int i = 0; i < layers; i++) {
                full.add(Math.max(i - offset + 1, 0) % frequency == 0);
            }
        }
        if (full.size() != layers) {
            throw new CheckpointFormatException(file, "the indexer types name " + full.size() + " layers, num_hidden_layers is " + layers);
        }
        return full;
    }

    /** Numeric keys of the config, with one-line errors for values of the wrong kind. */
    private record Keys(Path file, JsonNode config) {
        int integer(String key, int defaultValue) {
            JsonNode n = config.get(key);
            if (n == null || n.isNull()) {
                return defaultValue;
            }
            if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0) {
                throw new CheckpointFormatException(file, key + " is " + n + ", not a non-negative integer");
            }
            return n.asInt();
        }

        double decimal(String key, double defaultValue) {
            JsonNode n = config.get(key);
            return n == null || n.isNull() ? defaultValue : number(config, key);
        }

        double number(JsonNode parent, String key) {
            JsonNode n = parent.get(key.substring(key.lastIndexOf('.') + 1));
            if (n == null || !n.isNumber()) {
                throw new CheckpointFormatException(file, key + " is " + n + ", not a number");
            }
            return n.asDouble();
        }
    }
}
