package glmj.convert;

import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * The glm-dsa model keys of a converted GGUF, as llama.cpp's converter writes them for {@code GlmMoeDsaForCausalLM}
 * ({@code TextModel}, {@code DeepseekV2Model} and {@code GlmMoeDsaModel}'s {@code set_gguf_parameters}), in its order:
 * MLA as MQA with one KV head (key length kv_lora + rope, value length kv_lora), the MoE and DSA indexer keys, the MTP
 * layer count, and {@code general.quantization_version} 2.
 */
final class GlmDsaMetadata {
    static final String ARCHITECTURE = "glm-dsa";
    /** gguf-py's {@code GGML_QUANT_VERSION}. */
    private static final int QUANTIZATION_VERSION = 2;

    private GlmDsaMetadata() {
    }

    static void put(GGUFWriter w, GlmDsaTensorMap map, String name, int fileType) {
        GlmMoeDsaConfig c = map.config();
        String a = ARCHITECTURE + ".";
        w.putString("general.architecture", ARCHITECTURE)
                .putString("general.type", "model")
                .putString("general.name", name)
                .putString("general.size_label", sizeLabel(map.tensors()))
                .putUInt32(a + "block_count", c.blockCount())
                .putUInt32(a + "context_length", c.maxPositionEmbeddings())
                .putUInt32(a + "embedding_length", c.hiddenSize())
                .putUInt32(a + "feed_forward_length", c.intermediateSize())
                .putUInt32(a + "attention.head_count", c.headCount())
                .putUInt32(a + "attention.head_count_kv", 1);
        GlmMoeDsaConfig.RopeScaling rope = c.ropeScaling();
        if (rope.type() != null) {
            w.putString(a + "rope.scaling.type", rope.type()).putFloat32(a + "rope.scaling.factor", (float) rope.factor());
            if (rope.type().equals("yarn")) {
                w.putUInt32(a + "rope.scaling.original_context_length", rope.originalContextLength());
                putIfSet(w, a + "rope.scaling.yarn_ext_factor", rope.extrapolationFactor());
                putIfSet(w, a + "rope.scaling.yarn_attn_factor", rope.attentionFactor());
                putIfSet(w, a + "rope.scaling.yarn_beta_fast", rope.betaFast());
                putIfSet(w, a + "rope.scaling.yarn_beta_slow", rope.betaSlow());
            }
        }
        w.putFloat32(a + "rope.freq_base", (float) c.ropeTheta())
                .putFloat32(a + "attention.layer_norm_rms_epsilon", (float) c.rmsNormEps())
                .putUInt32(a + "expert_count", c.expertCount())
                .putUInt32(a + "expert_used_count", c.expertUsedCount())
                .putUInt32(a + "expert_group_count", c.expertGroupCount())
                .putUInt32(a + "expert_group_used_count", c.expertGroupUsedCount())
                .putUInt32(a + "expert_gating_func", gatingFunction(c.scoringFunction()))
                .putUInt32(a + "attention.key_length", c.kvLoraRank() + c.qkRopeHeadDim())
                .putUInt32(a + "attention.value_length", c.kvLoraRank())
                .putUInt32("general.file_type", fileType)
                .putUInt32(a + "leading_dense_block_count", c.leadingDenseLayerCount())
                .putUInt32(a + "vocab_size", c.vocabularySize())
                .putUInt32(a + "attention.q_lora_rank", c.qLoraRank())
                .putUInt32(a + "attention.kv_lora_rank", c.kvLoraRank())
                .putUInt32(a + "attention.key_length_mla", c.qkNopeHeadDim() + c.qkRopeHeadDim())
                .putUInt32(a + "attention.value_length_mla", c.vHeadDim())
                .putUInt32(a + "expert_feed_forward_length", c.moeIntermediateSize())
                .putUInt32(a + "expert_shared_count", c.sharedExpertCount())
                .putFloat32(a + "expert_weights_scale", (float) c.routedScalingFactor());
        if (c.normTopkProb()) {
            w.putBool(a + "expert_weights_norm", true);
        }
        w.putUInt32(a + "rope.dimension_count", (long) (c.qkRopeHeadDim() * c.partialRotaryFactor()));
        if (!Double.isNaN(rope.mscaleAllDim())) {
            // llama.cpp's DeepSeek-2 YaRN quirk: a tenth of mscale_all_dim ([TAG_DEEPSEEK2_YARN_LOG_MUL_FIX])
            w.putFloat32(a + "rope.scaling.yarn_log_multiplier", (float) (0.1 * rope.mscaleAllDim()));
        }
        w.putUInt32(a + "nextn_predict_layers", c.nextnLayerCount())
                .putUInt32(a + "attention.indexer.head_count", c.indexerHeadCount())
                .putUInt32(a + "attention.indexer.key_length", c.indexerHeadDim())
                .putUInt32(a + "attention.indexer.top_k", c.indexerTopK());
        boolean[] types = new boolean[c.indexerFull().size()];
        for (int i = 0; i < types.length; i++) {
            types[i] = c.indexerFull().get(i);
        }
        w.putArray(a + "attention.indexer.types", GGUFValueType.BOOL, types)
                .putUInt32("general.quantization_version", QUANTIZATION_VERSION);
    }

    /**
     * gguf-py's size label: {@code <experts>x<weights of the shared tensors and one expert>}, the count in K, M, B or T
     * with at least two digits (e.g. {@code 8x84M}).
     */
    static String sizeLabel(List<ConvertedTensor> tensors) {
        long shared = 0;
        long perExpert = 0;
        long expertSum = 0;
        int expertTensors = 0;
        for (ConvertedTensor t : tensors) {
            long size = t.elementCount();
            long[] shape = t.shape();
            if (t.name().contains("_exps.") && shape.length >= 3) {
                long experts = shape[2];
                perExpert += size / experts;
                expertSum += experts;
                expertTensors++;
            } else {
                shared += size;
            }
        }
        long experts = expertTensors > 0 ? expertSum / expertTensors : 0;
        String count = roundedCount(shared + perExpert);
        return experts > 0 ? experts + "x" + count : count;
    }

    /** gguf-py's {@code model_weight_count_rounded_notation} with two digits at least, Python's rounding. */
    private static String roundedCount(long count) {
        double scaled;
        String suffix;
        if (count > 1e12) {
            scaled = count * 1e-12;
            suffix = "T";
        } else if (count > 1e9) {
            scaled = count * 1e-9;
            suffix = "B";
        } else if (count > 1e6) {
            scaled = count * 1e-6;
            suffix = "M";
        } else {
            scaled = count * 1e-3;
            suffix = "K";
        }
        String integer = new BigDecimal(scaled).setScale(0, RoundingMode.HALF_EVEN).toPlainString().replaceFirst("^0+", "");
        int decimals = Math.max(2 - integer.length(), 0);
        return new BigDecimal(scaled).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString() + suffix;
    }

    /** llama.cpp's {@code llama_expert_gating_func_type} for a config's {@code scoring_func}. */
    private static int gatingFunction(String scoring) {
        return switch (scoring) {
            case "softmax" -> 1;
            case "sigmoid" -> 2;
            case "sqrtsoftplus" -> 4;
            default -> throw new IllegalStateException("scoring_func '" + scoring + "' passed GlmMoeDsaConfig's check");
        };
    }

    private static void putIfSet(GGUFWriter w, String key, double value) {
        if (!Double.isNaN(value)) {
            w.putFloat32(key, (float) value);
        }
    }
}
