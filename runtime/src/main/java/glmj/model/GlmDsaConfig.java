package glmj.model;

import glmj.gguf.GGUFValueType;
import glmj.gguf.Metadata;

/**
 * The glm-dsa hyperparameters, read from GGUF metadata the way llama.cpp v0.5.0 reads them (defaults are llama.cpp's
 * for keys it treats as optional).
 *
 * @param contextLength        training context ({@code context_length})
 * @param layerCount           decoder blocks run for the trunk: {@code block_count - nextn_predict_layers}
 * @param denseLeadCount       leading blocks with a dense SwiGLU FFN instead of MoE
 * @param headKeyLength        per-head query/key length before absorption ({@code key_length_mla}): nope + rope
 * @param headValueLength      per-head value length after decompression ({@code value_length_mla})
 * @param ropeLength           rotated dimensions per head ({@code rope.dimension_count})
 * @param indexerKeyNormEps    eps of the indexer key LayerNorm: llama.cpp does not read one for glm-dsa, so 0
 * @param indexerFull          per layer: a full indexer (true) or one reusing the previous full layer's top-k
 * @param expertWeightsScale   routed scaling factor; 0 (absent) or 1 means none
 * @param expertGatingSigmoid  sigmoid router (true) or softmax
 */
public record GlmDsaConfig(
        int contextLength, int embeddingLength, int layerCount, int denseLeadCount, int vocabularySize,
        int[] feedForwardLength, float rmsNormEps,
        int headCount, int qLoraRank, int kvLoraRank, int headKeyLength, int headValueLength, int ropeLength,
        int indexerHeadCount, int indexerHeadLength, int indexerTopK, float indexerKeyNormEps, boolean[] indexerFull,
        int expertCount, int[] expertUsedCount, int expertGroupCount, int expertGroupUsedCount,
        int[] expertFeedForwardLength, int sharedExpertCount, float expertWeightsScale, boolean expertWeightsNorm,
        boolean expertGatingSigmoid,
        Rope.Settings rope) {

    public static final String ARCHITECTURE = "glm-dsa";
    /** llama.cpp's LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX and _SIGMOID. */
    private static final int GATING_SOFTMAX = 1;
    private static final int GATING_SIGMOID = 2;
    /** llama.cpp treats a model trained on fewer tokens as GLM-5/5.1, whose every indexer is full. */
    private static final int FIRST_SHARED_INDEXER_CONTEXT = 1_048_576;

    public static GlmDsaConfig from(Metadata meta, int vocabularySize) {
        String arch = meta.getString("general.architecture");
        if (!ARCHITECTURE.equals(arch)) {
            throw new IllegalArgumentException("general.architecture is '" + arch + "', expected '" + ARCHITECTURE + "'");
        }
        String a = ARCHITECTURE + ".";
        int blocks = meta.getInt(a + "block_count");
        int layers = blocks - meta.getInt(a + "nextn_predict_layers", 0);
        int contextLength = meta.getInt(a + "context_length");
        int headKey = meta.getInt(a + "attention.key_length_mla");
        int headKeyFull = meta.getInt(a + "attention.key_length", meta.getInt(a + "embedding_length") / meta.getInt(a + "attention.head_count"));
        int ropeLength = meta.getInt(a + "rope.dimension_count", headKeyFull);

        boolean[] full = new boolean[layers];
        String typesKey = a + "attention.indexer.types";
        if (meta.has(typesKey)) {
            full = perLayerFlags(meta, typesKey, layers);
        } else {
            for (int il = 0; il < layers; il++) {
                // llama.cpp's fallback for GLM-5.2 files without the key: full, full, then one full layer in four
                full[il] = contextLength < FIRST_SHARED_INDEXER_CONTEXT || il < 2 || (il - 2) % 4 == 0;
            }
        }
        if (layers > 0 && !full[0]) {
            throw new IllegalArgumentException(typesKey + ": layer 0 reuses the top-k of a previous full indexer layer, but there is none");
        }
        int gating = meta.getInt(a + "expert_gating_func", 0);
        if (gating != 0 && gating != GATING_SOFTMAX && gating != GATING_SIGMOID) {
            throw new IllegalArgumentException(a + "expert_gating_func is " + gating + ", expected 1 (softmax) or 2 (sigmoid)");
        }
        return new GlmDsaConfig(
                contextLength, meta.getInt(a + "embedding_length"), layers,
                meta.getInt(a + "leading_dense_block_count", 0), vocabularySize,
                perLayer(meta, a + "feed_forward_length", layers, 0),
                meta.getFloat(a + "attention.layer_norm_rms_epsilon"),
                meta.getInt(a + "attention.head_count"), meta.getInt(a + "attention.q_lora_rank"),
                meta.getInt(a + "attention.kv_lora_rank"), headKey, meta.getInt(a + "attention.value_length_mla"), ropeLength,
                meta.getInt(a + "attention.indexer.head_count"), meta.getInt(a + "attention.indexer.key_length"),
                meta.getInt(a + "attention.indexer.top_k"), 0.0f, full,
                meta.getInt(a + "expert_count", 0), perLayer(meta, a + "expert_used_count", layers, 0),
                meta.getInt(a + "expert_group_count", 0), meta.getInt(a + "expert_group_used_count", 0),
                perLayer(meta, a + "expert_feed_forward_length", layers, 0), meta.getInt(a + "expert_shared_count"),
                meta.getFloat(a + "expert_weights_scale", 0f), meta.getBoolean(a + "expert_weights_norm", false),
                gating != GATING_SOFTMAX,
                Rope.Settings.from(meta, a, ropeLength, contextLength));
    }

    public int ropeFreeLength() {
        return headKeyLength - ropeLength;
    }

    public boolean isMoe(int layer) {
        return layer >= denseLeadCount;
    }

    /**
     * The attention logit scale: llama.cpp pre-scales 1/sqrt(head key length) by the squared YaRN magnitude factor
     * (glm-dsa has no yarn_log_multiplier, so that factor reduces to the file's attention factor).
     */
    public float attentionScale() {
        float lnInverseScale = (float) Math.log(1.0f / rope.freqScale());
        float mscale = rope.attnFactor() * (1.0f + 0.1f * lnInverseScale);
        return mscale * mscale / (float) Math.sqrt(headKeyLength);
    }

    private static int[] perLayer(Metadata meta, String key, int layers, int defaultValue) {
        int[] values = new int[layers];
        if (!meta.has(key)) {
            java.util.Arrays.fill(values, defaultValue);
        } else if (meta.type(key) == GGUFValueType.ARRAY) {
            int[] stored = meta.getIntArray(key);
            if (stored.length < layers) {
                throw new IllegalArgumentException(key + " has " + stored.length + " values for " + layers + " layers");
            }
            System.arraycopy(stored, 0, values, 0, layers);
        } else {
            java.util.Arrays.fill(values, meta.getInt(key));
        }
        return values;
    }

    private static boolean[] perLayerFlags(Metadata meta, String key, int layers) {
        Object stored = meta.get(key);
        boolean[] flags = new boolean[layers];
        int length = java.lang.reflect.Array.getLength(stored);
        if (length < layers) {
            throw new IllegalArgumentException(key + " has " + length + " values for " + layers + " layers");
        }
        for (int il = 0; il < layers; il++) {
            Object v = java.lang.reflect.Array.get(stored, il);
            flags[il] = v instanceof Boolean b ? b : ((Number) v).longValue() != 0;
        }
        return flags;
    }
}
