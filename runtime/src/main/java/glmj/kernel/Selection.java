package glmj.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The cache rows each token of a batch attends, as the lightning indexer chose them (its top-k): per token a list in
 * cache order (the order ggml's small-batch attention visits them), its length, and the same rows as bits, one long per
 * {@link #TILE} rows. Written by {@link LightningIndexer}, read by {@link MlaAttention}; a layer that
 * reuses an earlier layer's choice reads it again.
 */
public final class Selection {
    /** Cache rows per long of selection bits; also the tiles the lightning indexer scans the keys in. */
    public static final int TILE = 64;

    final int[][] keys;
    final int[] counts;
    final long[][] rows;

    /** Room for {@code tokens} tokens choosing {@code topK} of the rows of a cache of {@code capacity}. */
    public Selection(int tokens, int topK, int capacity) {
        this.keys = new int[tokens][topK];
        this.counts = new int[tokens];
        this.rows = new long[tokens][tiles(capacity)];
    }

    /** The tiles that cover cache rows {@code [0, rows)}: the words of a selection over them. */
    public static int tiles(int rows) {
        return (rows + TILE - 1) / TILE;
    }

    /**
     * Token t of a batch of {@code count} at positions {@code cached..} attends every row it sees, {@code [0, cached + t]}:
     * the indexer's choice while no more rows than its top-k are visible.
     */
    public void everyVisible(int cached, int count) {
        int words = tiles(cached + count);
        for (int t = 0; t < count; t++) {
            int visible = cached + t + 1;
            int[] chosen = keys[t];
            for (int i = 0; i < visible; i++) {
                chosen[i] = i;
            }
            long[] bits = rows[t];
            Arrays.fill(bits, 0, visible / TILE, -1L);
            Arrays.fill(bits, visible / TILE, words, 0L);
            if (visible % TILE != 0) {
                bits[visible / TILE] = (1L << (visible % TILE)) - 1;
            }
            counts[t] = visible;
        }
    }

    /** Bytes {@link #save} writes for {@code tokens} tokens. */
    public long bytes(int tokens) {
        return (long) tokens * (Integer.BYTES * (1L + keys[0].length) + Long.BYTES * rows[0].length);
    }

    /** Writes the choice of the first {@code tokens} tokens to {@code to} from byte {@code at}, for {@link #load}. */
    public void save(int tokens, MemorySegment to, long at) {
        for (int t = 0; t < tokens; t++) {
            to.set(ValueLayout.JAVA_INT_UNALIGNED, at, counts[t]);
            MemorySegment.copy(keys[t], 0, to, ValueLayout.JAVA_INT_UNALIGNED, at + Integer.BYTES, keys[t].length);
            at += Integer.BYTES * (1L + keys[t].length);
            MemorySegment.copy(rows[t], 0, to, ValueLayout.JAVA_LONG_UNALIGNED, at, rows[t].length);
            at += (long) Long.BYTES * rows[t].length;
        }
    }

    /** Reads back what {@link #save} wrote, as the choice of the first {@code tokens} tokens. */
    public void load(int tokens, MemorySegment from, long at) {
        for (int t = 0; t < tokens; t++) {
            counts[t] = from.get(ValueLayout.JAVA_INT_UNALIGNED, at);
            MemorySegment.copy(from, ValueLayout.JAVA_INT_UNALIGNED, at + Integer.BYTES, keys[t], 0, keys[t].length);
            at += Integer.BYTES * (1L + keys[t].length);
            MemorySegment.copy(from, ValueLayout.JAVA_LONG_UNALIGNED, at, rows[t], 0, rows[t].length);
            at += (long) Long.BYTES * rows[t].length;
        }
    }
}
