package glmj.kernel;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The scoring and top-k of DSA's lightning indexer, as ggml's lightning indexer computes them: every visible cached key
 * scored by the sum over heads of ReLU(q_h . k) * w_h, and the {@code topK} best kept per token. A batch is scored
 * {@link #SCORED_TOKENS} tokens at a time against tiles of {@link Selection#TILE} keys, each key converted from
 * f16 once for all of them, the tiles shared among parallel tasks; the top-k selections run in parallel. Holds its
 * scratch and the state of the step in flight, read by the kernels' threads; one call at a time.
 */
public final class LightningIndexer {
    /**
     * Tokens whose scores are computed together, sharing each key's conversion from f16; their score rows take
     * {@code 2 * 4 * n_ctx} bytes each (scores and top-k heap), 25 MB at GLM-5's whole context.
     */
    private static final int SCORED_TOKENS = 16;
    /** Parallel tasks sharing the scan of the cache: enough to keep the cores of a large machine busy. */
    private static final int SCORING_TASKS = 32;

    /** The indexer's size: {@code heads} query heads of {@code headLength}, keeping the {@code topK} best keys. */
    public record Shape(int heads, int headLength, int topK) {
    }

    private final Shape shape;
    private final Kernels kernels;
    /** The scores of the tokens being selected for, a row each. */
    private final float[][] scores;
    private final int[][] heaps;
    /** Keys converted from f16, one tile per parallel scoring task. */
    private final float[][] keys;
    private final IntConsumer scoreKeys = this::scoreKeys;
    private final IntConsumer selectKeys = this::selectKeys;

    // the step in flight
    private float[] queries;
    private float[] weights;
    private MemorySegment cache;
    private Selection selection;
    private int cached;
    private int first;
    private int tokens;
    private int end;
    private int tasks;

    /** An indexer for batches of up to {@code maxTokens} tokens over caches of up to {@code capacity} keys. */
    public LightningIndexer(Shape shape, int maxTokens, int capacity, Kernels kernels) {
        this.shape = shape;
        this.kernels = kernels;
        int scored = Math.min(maxTokens, SCORED_TOKENS);
        this.scores = new float[scored][capacity];
        this.heaps = new int[scored][capacity];
        this.keys = new float[SCORING_TASKS][Selection.TILE * shape.headLength()];
    }

    /**
     * Chooses the keys of {@code count} tokens at positions {@code cached..}: token t's queries (every head, rotated)
     * at {@code queries[t * heads * headLength ..]}, its head weights (scaled) at {@code weights[t * heads ..]}, the
     * keys (f16, the batch's own included) in {@code cache}. Writes each token's choice into {@code selection}.
     */
    public void select(float[] queries, float[] weights, MemorySegment cache, int cached, int count, Selection selection) {
        this.queries = queries;
        this.weights = weights;
        this.cache = cache;
        this.cached = cached;
        this.selection = selection;
        this.end = cached + count;
        for (int from = 0; from < count; from += scores.length) {
            this.first = from;
            this.tokens = Math.min(scores.length, count - from);
            int tiles = Selection.tiles(cached + from + tokens);
            this.tasks = Math.min(keys.length, tiles);
            kernels.parallelFor(tasks, scoreKeys);
            kernels.parallelFor(tokens, selectKeys);
        }
    }

    /**
     * The scores of the cache tiles {@code [task * tiles / tasks, ...)} for the tokens in flight, each key converted
     * from f16 once for all of them.
     */
    private void scoreKeys(int task) {
        int ih = shape.heads(), id = shape.headLength();
        int last = cached + first + tokens, tiles = Selection.tiles(last);
        float[] tile = keys[task];
        for (int t0 = task * tiles / tasks; t0 < (task + 1) * tiles / tasks; t0++) {
            int from = t0 * Selection.TILE, to = Math.min(last, from + Selection.TILE);
            Halves.toFloats(cache, 2L * from * id, tile, 0, (to - from) * id);
            for (int r = 0; r < tokens; r++) {
                int t = first + r;
                float[] score = scores[r];
                for (int j = from; j < Math.min(to, cached + t + 1); j++) {
                    float sum = 0;
                    for (int h = 0; h < ih; h++) {
                        // ggml_vec_dot_f32 of the query and the key converted to f32, as ggml's lightning indexer
                        float qk = kernels.dot(queries, (t * ih + h) * id, tile, (j - from) * id, id);
                        // fused, as GCC compiles it (score += MAX(qk, 0) * w)
                        sum = Math.fma(Math.max(qk, 0f), weights[t * ih + h], sum);
                    }
                    score[j] = sum;
                }
            }
        }
    }

    /** The score the last {@link #select} gave key {@code key} for the {@code r}th token of its last group of tokens. */
    float score(int r, int key) {
        return scores[r][key];
    }

    /** The top-k keys of token {@code first + r} in flight: as a list in cache order and as bits over the rows the batch sees. */
    private void selectKeys(int r) {
        int t = first + r, visible = cached + t + 1;
        int[] chosen = selection.keys[t];
        int n = TopK.select(scores[r], 0, visible, shape.topK(), chosen, heaps[r]);
        long[] rows = selection.rows[t];
        Arrays.fill(rows, 0, Selection.tiles(end), 0L);
        for (int i = 0; i < n; i++) {
            rows[chosen[i] / Selection.TILE] |= 1L << chosen[i];
        }
        int i = 0;
        for (int word = 0; i < n; word++) {
            for (long bits = rows[word]; bits != 0; bits &= bits - 1) {
                chosen[i++] = word * Selection.TILE + Long.numberOfTrailingZeros(bits);
            }
        }
        selection.counts[t] = n;
    }
}
