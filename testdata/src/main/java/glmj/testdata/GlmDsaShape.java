package glmj.testdata;

/**
 * The hyperparameters of a generated GLM-5: every size its tensors and metadata are made from. Lengths follow
 * llama.cpp's GGUF keys. {@code blockCount} counts the trunk's blocks; {@code nextnBlockCount} MTP blocks follow them
 * (GGUF's {@code block_count} is the sum, as in GLM-5's files). {@code vocabularySize} pads the tokenizer's tokens with
 * unused ones up to that size (GLM-5's 154,880), 0 keeps the tokenizer's own size. {@code indexerTypes} holds, per trunk
 * block, true for a full DSA indexer and false for one that reuses the top-k of the previous full block (GLM-5.2); null
 * writes no {@code indexer.types} key, as GLM-5's files, whose every indexer is full.
 */
record GlmDsaShape(
        int embeddingLength, int blockCount, int leadingDenseBlockCount, int nextnBlockCount, int vocabularySize,
        int contextLength, int feedForwardLength,
        int headCount, int qLoraRank, int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int valueLengthMla,
        int expertCount, int expertUsedCount, int expertSharedCount, int expertFeedForwardLength, float expertWeightsScale,
        int indexerHeadCount, int indexerKeyLength, int indexerTopK, boolean[] indexerTypes,
        float ropeFreqBase, float rmsNormEps) {

    GlmDsaShape {
        if (indexerTypes != null) {
            if (indexerTypes.length != blockCount) {
                throw new IllegalArgumentException(indexerTypes.length + " indexer types for " + blockCount + " blocks");
            }
            indexerTypes = indexerTypes.clone();
        }
        if (leadingDenseBlockCount > blockCount) {
            throw new IllegalArgumentException(leadingDenseBlockCount + " dense blocks of " + blockCount);
        }
    }

    @Override
    public boolean[] indexerTypes() {
        return indexerTypes == null ? null : indexerTypes.clone();
    }

    /** Blocks in the file: the trunk and the MTP blocks after it. */
    int fileBlockCount() {
        return blockCount + nextnBlockCount;
    }

    /** Whether file block {@code block} has a full indexer (MTP blocks always do). */
    boolean isIndexerFull(int block) {
        return indexerTypes == null || block >= blockCount || indexerTypes[block];
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
