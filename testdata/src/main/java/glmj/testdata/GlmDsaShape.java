package glmj.testdata;

/**
 * The hyperparameters of a generated GLM-5: every size its tensors and metadata are made from. Lengths follow
 * llama.cpp's GGUF keys; {@code indexerTypes} holds, per block, true for a full DSA indexer and false for one that
 * reuses the top-k of the previous full block (GLM-5.2), and its length is the block count.
 */
record GlmDsaShape(
        int embeddingLength, int leadingDenseBlockCount, int contextLength, int feedForwardLength,
        int headCount, int qLoraRank, int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int valueLengthMla,
        int expertCount, int expertUsedCount, int expertSharedCount, int expertFeedForwardLength, float expertWeightsScale,
        int indexerHeadCount, int indexerKeyLength, int indexerTopK, boolean[] indexerTypes,
        float ropeFreqBase, float rmsNormEps) {

    GlmDsaShape {
        indexerTypes = indexerTypes.clone();
    }

    @Override
    public boolean[] indexerTypes() {
        return indexerTypes.clone();
    }

    int blockCount() {
        return indexerTypes.length;
    }

    boolean isIndexerFull(int block) {
        return indexerTypes[block];
    }

    /** Per-head key length before absorption: nope + rope. */
    int keyLengthMla() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }

    /** Absorbed (MQA) key length: the compressed KV plus the shared rope part. */
    int keyLength() {
        return kvLoraRank + qkRopeHeadDim;
    }

    int valueLength() {
        return kvLoraRank;
    }
}
