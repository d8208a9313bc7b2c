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
 * {@link #SCORED_TOKENS} tokens at a time against tiles of {@link Selection#TILE} keys, each key converted from
 * f16 once for all of them and scored two at a time, the tiles shared among parallel tasks; the top-k selections run
 * in parallel. Holds its scratch and the state of the step in flight, read by the kernels' threads; one call at a time.
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
    /** Each head's two vectors of partial sums, one array per parallel scoring task. */
    private final float[][] headLanes;
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
        this.headLanes = new float[SCORING_TASKS][2 * shape.heads() * LANES];
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
        float[] tile = keys[task], lanes = headLanes[task];
        for (int t0 = task * tiles / tasks; t0 < (task + 1) * tiles / tasks; t0++) {
            int from = t0 * Selection.TILE, to = Math.min(last, from + Selection.TILE);
            Halves.toFloats(cache, 2L * from * id, tile, 0, (to - from) * id);
            for (int r = 0; r < tokens; r++) {
                int t = first + r, seen = Math.min(to, cached + t + 1);
                int query = t * ih * id, weight = t * ih;
                int j = from;
                for (; j + 1 < seen; j += 2) {
                    scoreTwoKeys(queries, query, weights, weight, ih, id, tile, (j - from) * id, lanes, scores[r], j);
                }
                if (j < seen) {
                    scores[r][j] = scoreKey(queries, query, weights, weight, ih, id, tile, (j - from) * id);
                }
            }
        }
    }

    /**
     * One token's score of a key at {@code tile[at..]}: the sum over heads of ReLU(q_h . k) * w_h, each dot product in
     * ggml_vec_dot_f32's order as ggml's lightning indexer takes it ({@link FloatDots#f32(float[], int, float[], int, int)}),
     * ReLU and weight fused as GCC compiles {@code score += MAX(qk, 0) * w}.
     */
    private static float scoreKey(float[] queries, int query, float[] weights, int weight, int heads, int length,
            float[] tile, int at) {
        float sum = 0;
        for (int h = 0; h < heads; h++) {
            float qk = FloatDots.f32(queries, query + h * length, tile, at, length);
            sum = Math.fma(Math.max(qk, 0f), weights[weight + h], sum);
        }
        return sum;
    }

    /**
     * {@link #scoreKey} of two consecutive keys of the tile, {@code key} and {@code key + 1} at {@code tile[at..]}, into
     * {@code score}: the same sums in the same order, both keys in one pass so that each load of a query serves two.
     * The heads' vectors of partial sums are stored in {@code lanes} and reduced there by {@link #sumHeads}: reduced as
     * vectors, the second key's no longer fit C2's inlining budget (NodeCountInliningCutoff) and were boxed on the heap.
     */
    private static void scoreTwoKeys(float[] queries, int query, float[] weights, int weight, int heads, int length,
            float[] tile, int at, float[] lanes, float[] score, int key) {
        int next = at + length;
        for (int h = 0; h < heads; h++) {
            int q = query + h * length;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
            for (int i = 0; i + 4 * LANES <= length; i += 4 * LANES) {
                FloatVector q0 = FloatVector.fromArray(F, queries, q + i);
                FloatVector q1 = FloatVector.fromArray(F, queries, q + i + LANES);
                FloatVector q2 = FloatVector.fromArray(F, queries, q + i + 2 * LANES);
                FloatVector q3 = FloatVector.fromArray(F, queries, q + i + 3 * LANES);
                a0 = q0.lanewise(FMA, FloatVector.fromArray(F, tile, at + i), a0);
                a1 = q1.lanewise(FMA, FloatVector.fromArray(F, tile, at + i + LANES), a1);
                a2 = q2.lanewise(FMA, FloatVector.fromArray(F, tile, at + i + 2 * LANES), a2);
                a3 = q3.lanewise(FMA, FloatVector.fromArray(F, tile, at + i + 3 * LANES), a3);
                b0 = q0.lanewise(FMA, FloatVector.fromArray(F, tile, next + i), b0);
                b1 = q1.lanewise(FMA, FloatVector.fromArray(F, tile, next + i + LANES), b1);
                b2 = q2.lanewise(FMA, FloatVector.fromArray(F, tile, next + i + 2 * LANES), b2);
                b3 = q3.lanewise(FMA, FloatVector.fromArray(F, tile, next + i + 3 * LANES), b3);
            }
            a0.lanewise(ADD, a2).lanewise(ADD, a1.lanewise(ADD, a3)).intoArray(lanes, 2 * h * LANES);
            b0.lanewise(ADD, b2).lanewise(ADD, b1.lanewise(ADD, b3)).intoArray(lanes, (2 * h + 1) * LANES);
        }
        sumHeads(queries, query, weights, weight, heads, length, tile, at, lanes, score, key);
    }

    /**
     * The two keys' scores from each head's two vectors of partial sums in {@code lanes}: each reduced across its lanes
     * in ggml's order, the products past the last four vectors added one at a time, then ReLU and weight, head after head.
     */
    private static void sumHeads(float[] queries, int query, float[] weights, int weight, int heads, int length,
            float[] tile, int at, float[] lanes, float[] score, int key) {
        int next = at + length, whole = length / (4 * LANES) * (4 * LANES);
        float sum0 = 0, sum1 = 0;
        for (int h = 0; h < heads; h++) {
            int q = query + h * length;
            float qk0 = Lanes.vecReduce(lanes, 2 * h * LANES);
            float qk1 = Lanes.vecReduce(lanes, (2 * h + 1) * LANES);
            for (int i = whole; i < length; i++) {
                qk0 += queries[q + i] * tile[at + i];
                qk1 += queries[q + i] * tile[next + i];
            }
            sum0 = Math.fma(Math.max(qk0, 0f), weights[weight + h], sum0);
            sum1 = Math.fma(Math.max(qk1, 0f), weights[weight + h], sum1);
        }
        score[key] = sum0;
        score[key + 1] = sum1;
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
