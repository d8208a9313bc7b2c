package glmj.quant;

import glmj.gguf.ActiveWeights;
import glmj.gguf.Metadata;

/**
 * The blocks of a glm-dsa model as recipes select them: {@code blocks} in all ({@code block_count}), the first
 * {@code denseBlocks} with a dense FFN, then the MoE blocks of the trunk, then the last {@code mtpBlocks}, the
 * multi-token-prediction (nextn) blocks, which decoding does not run.
 */
public record LayerLayout(int blocks, int denseBlocks, int mtpBlocks) {

    /** The layout the model keys of {@code metadata} describe. */
    public static LayerLayout of(Metadata metadata) {
        String a = metadata.getString("general.architecture") + ".";
        return new LayerLayout(metadata.getInt(a + "block_count"), metadata.getInt(a + "leading_dense_block_count", 0),
                metadata.getInt(a + "nextn_predict_layers", 0));
    }

    /** The block of a {@code blk.N.} tensor; -1 for the tensors outside the blocks. */
    public static int layerOf(String name) {
        return ActiveWeights.blockOf(name);
    }

    public boolean isDense(int layer) {
        return layer >= 0 && layer < denseBlocks;
    }

    public boolean isMtp(int layer) {
        return layer >= blocks - mtpBlocks && layer < blocks;
    }

    public boolean isMoe(int layer) {
        return layer >= denseBlocks && layer < blocks - mtpBlocks;
    }

    /** The position of a MoE block among the trunk's MoE blocks, from 0. */
    public int moeIndex(int layer) {
        return layer - denseBlocks;
    }

    /**
     * llama-quantize's {@code use_more_bits} over every block ({@code n_layer_all}, the MTP blocks too): the first and
     * last eighth, and every third block between.
     */
    public boolean moreBits(int layer) {
        int n = blocks;
        return layer < n / 8 || layer >= 7 * n / 8 || (layer - n / 8) % 3 == 2;
    }
}
