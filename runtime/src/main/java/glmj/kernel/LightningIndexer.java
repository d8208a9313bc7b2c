package glmj.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntConsumer;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * The scoring and top-k of DSA's lightning indexer, as ggml's lightning indexer computes them: every visible cached key
 * scored by the sum over heads of ReLU(q_h . k) * w_h, and the {@code topK} best kept per token. A batch is scored
 * {@link #SCORED_TOKENS} tokens at a time against tiles of {@link TiledAttention#TILE} keys, each key converted from
 * f16 once for all of them, the tiles shared among parallel tasks; the top-k selections run in parallel. Holds its
 * scratch and the state of the step in flight, read by the kernels' threads; one call at a time.
 *
 * <p>A key's dot products with every head are computed with the heads in vector lanes (each key element, broadcast,
 * multiplies a vector of heads' query elements), in exactly the order of additions of ggml_vec_dot_f32 as
 * {@link Kernels#dot} computes one: its four accumulators, their sums, its reduction across lanes
 * ({@link Lanes#vecReduce}), its tail.
 */
public final class LightningIndexer {
    /**
     * Tokens whose scores are computed together, sharing each key's conversion from f16; their score rows take
     * {@code 2 * 4 * n_ctx} bytes each (scores and top-k heap), 25 MB at GLM-5's whole context.
     */
    private static final int SCORED_TOKENS = 16;
    /** Parallel tasks sharing the scan of the cache: enough to keep the cores of a large machine busy. */
    private static final int SCORING_TASKS = 32;
    private static final VectorSpecies<Float> F = Lanes.F;
    private static final int LANES = F.length();

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
    /** Heads rounded up to whole vectors. */
    private final int paddedHeads;
    /** Per token in flight, its queries transposed: element d of head h at {@code d * paddedHeads + h}. */
    private final float[][] transposed;
    /** Per parallel scoring task, a key's partial dot products: a row of heads per vector lane. */
    private final float[][] partials;
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
        this.keys = new float[SCORING_TASKS][TiledAttention.TILE * shape.headLength()];
        this.paddedHeads = (shape.heads() + LANES - 1) / LANES * LANES;
        this.transposed = new float[scored][shape.headLength() * paddedHeads];
        this.partials = new float[SCORING_TASKS][LANES * paddedHeads];
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
            transposeQueries();
            int tiles = TiledAttention.tiles(cached + from + tokens);
            this.tasks = Math.min(keys.length, tiles);
            kernels.parallelFor(tasks, scoreKeys);
            kernels.parallelFor(tokens, selectKeys);
        }
    }

    /** The queries of the tokens in flight, transposed to rows of heads. */
    private void transposeQueries() {
        int ih = shape.heads(), id = shape.headLength();
        for (int r = 0; r < tokens; r++) {
            float[] into = transposed[r];
            int at = (first + r) * ih * id;
            for (int h = 0; h < ih; h++) {
                for (int d = 0; d < id; d++) {
                    into[d * paddedHeads + h] = queries[at + h * id + d];
                }
            }
        }
    }

    /**
     * The scores of the cache tiles {@code [task * tiles / tasks, ...)} for the tokens in flight, each key converted
     * from f16 once for all of them.
     */
    private void scoreKeys(int task) {
        int ih = shape.heads(), id = shape.headLength();
        int last = cached + first + tokens, tiles = TiledAttention.tiles(last);
        float[] tile = keys[task];
        for (int t0 = task * tiles / tasks; t0 < (task + 1) * tiles / tasks; t0++) {
            int from = t0 * TiledAttention.TILE, to = Math.min(last, from + TiledAttention.TILE);
            Halves.toFloats(cache, 2L * from * id, tile, 0, (to - from) * id);
            for (int r = 0; r < tokens; r++) {
                int t = first + r;
                float[] score = scores[r];
                for (int j = from; j < Math.min(to, cached + t + 1); j++) {
                    score[j] = score(transposed[r], tile, (j - from) * id, partials[task], t * ih);
                }
            }
        }
    }

    /**
     * One key's score for one token: every head's dot product of its query ({@code queries}, transposed) with the
     * key at {@code key[at]}, as ggml_vec_dot_f32 adds it up, then the sum over heads of ReLU(dot) times the head's
     * weight, in head order and fused, as GCC compiles ggml's loop ({@code score += MAX(qk, 0) * w}).
     */
    private float score(float[] queries, float[] key, int at, float[] partial, int weightsAt) {
        int id = shape.headLength(), ph = paddedHeads, step = 4 * LANES, whole = id / step * step;
        for (int h = 0; h < ph; h += LANES) {
            // lane l of ggml's four accumulators, for a vector of heads; then (0 + 2) + (1 + 3), as Kernels.dot adds them
            for (int l = 0; l < LANES; l++) {
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                for (int d = l; d < whole; d += step) {
                    a0 = FloatVector.fromArray(F, queries, d * ph + h).lanewise(FMA, FloatVector.broadcast(F, key[at + d]), a0);
                    a1 = FloatVector.fromArray(F, queries, (d + LANES) * ph + h)
                            .lanewise(FMA, FloatVector.broadcast(F, key[at + d + LANES]), a1);
                    a2 = FloatVector.fromArray(F, queries, (d + 2 * LANES) * ph + h)
                            .lanewise(FMA, FloatVector.broadcast(F, key[at + d + 2 * LANES]), a2);
                    a3 = FloatVector.fromArray(F, queries, (d + 3 * LANES) * ph + h)
                            .lanewise(FMA, FloatVector.broadcast(F, key[at + d + 3 * LANES]), a3);
                }
                a0.lanewise(ADD, a2).lanewise(ADD, a1.lanewise(ADD, a3)).intoArray(partial, l * ph + h);
            }
        }
        // across the lanes, in Lanes.vecReduce's order: halves added (16 to 8 to 4 lanes), then the last four
        int width = LANES;
        for (; width > 4; width /= 2) {
            for (int l = 0; l < width / 2; l++) {
                addRows(partial, l * ph, (l + width / 2) * ph, ph);
            }
        }
        if (LANES == 8) {
            addRows(partial, 0, ph, ph);
            addRows(partial, 2 * ph, 3 * ph, ph);
            addRows(partial, 0, 2 * ph, ph);
        } else {
            addRows(partial, 0, 2 * ph, ph);
            addRows(partial, ph, 3 * ph, ph);
            addRows(partial, 0, ph, ph);
        }
        // row 0 now holds each head's dot product but for the tail past the last whole step, added in order as Kernels.dot adds it
        for (int d = whole; d < id; d++) {
            float k = key[at + d];
            for (int h = 0; h < ph; h++) {
                partial[h] += queries[d * ph + h] * k;
            }
        }
        float sum = 0;
        for (int h = 0; h < shape.heads(); h++) {
            sum = Math.fma(Math.max(partial[h], 0f), weights[weightsAt + h], sum);
        }
        return sum;
    }

    /** {@code rows[to..to + n) += rows[from..from + n)}, n a multiple of the lanes. */
    private static void addRows(float[] rows, int to, int from, int n) {
        for (int i = 0; i < n; i += LANES) {
            FloatVector.fromArray(F, rows, to + i).lanewise(ADD, FloatVector.fromArray(F, rows, from + i)).intoArray(rows, to + i);
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
        Arrays.fill(rows, 0, TiledAttention.tiles(end), 0L);
        for (int i = 0; i < n; i++) {
            rows[chosen[i] / TiledAttention.TILE] |= 1L << chosen[i];
        }
        int i = 0;
        for (int word = 0; i < n; word++) {
            for (long bits = rows[word]; bits != 0; bits &= bits - 1) {
                chosen[i++] = word * TiledAttention.TILE + Long.numberOfTrailingZeros(bits);
            }
        }
        selection.counts[t] = n;
    }
}
