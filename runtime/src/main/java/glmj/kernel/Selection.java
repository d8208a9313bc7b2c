package glmj.kernel;

/**
 * The cache rows each token of a batch attends, as the lightning indexer chose them (its top-k): per token a list in
 * cache order (the order ggml's small-batch attention visits them), its length, and the same rows as bits, one long per
 * {@link TiledAttention#TILE} rows. Written by {@link LightningIndexer}, read by {@link MlaAttention}; a layer that
 * reuses an earlier layer's choice reads it again.
 */
public final class Selection {
    final int[][] keys;
    final int[] counts;
    final long[][] rows;

    /** Room for {@code tokens} tokens choosing {@code topK} of the rows of a cache of {@code capacity}. */
    public Selection(int tokens, int topK, int capacity) {
        this.keys = new int[tokens][topK];
        this.counts = new int[tokens];
        this.rows = new long[tokens][TiledAttention.tiles(capacity)];
    }
}
