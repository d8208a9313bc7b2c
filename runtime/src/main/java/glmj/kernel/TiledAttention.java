package glmj.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * MLA attention of a batch of queries over the cache rows each of them selected, summed in f32 one tile of
 * {@link #TILE} cache positions at a time with an online softmax. This is what ggml's tiled flash attention computes
 * for a batch of at least {@link SmallBatchAttention#GGML_FA_TILE_Q} tokens (in its own order of additions).
 *
 * <p>A tile's rows are converted from f16 once, for every query and head that selected them; a query's scores and
 * its share of the values are computed only for its selected rows, so the cost follows the selection (the indexer's
 * top-k), not the context. A query's result depends only on its own rows and the fixed tiles, not on the batch.
 *
 * <p>Cache rows hold kv_lora + rope f16 values: the latent (also the value) then the rope key. Queries and results
 * are laid out as glm-dsa's heads are: for token t and head h, the absorbed query (kv_lora) at
 * {@code absorbed[(t * headCount + h) * kv_lora]}, the rope query at {@code q[(t * headCount + h) * qStride + ropeAt]},
 * the result at the absorbed query's place in {@code out}. One instance per concurrent task: it keeps scratch buffers.
 */
public final class TiledAttention {
    /** Cache positions per tile: one long of selection bits. */
    public static final int TILE = 64;

    private static final VectorSpecies<Float> F = Lanes.F;

    /** The tiles that cover cache rows {@code [0, rows)}: the words of a selection over them. */
    public static int tiles(int rows) {
        return (rows + TILE - 1) / TILE;
    }

    private final int kvLoraRank;
    private final int width;
    private final int headCount;
    private final int qStride;
    private final int ropeAt;
    private final float scale;
    private final int maxHeads;
    private final int maxTokens;
    /** The tile's selected rows as floats, row r at {@code r * width}. */
    private final float[] rows;
    /** The two queries being attended: each its absorbed part then its rope part. */
    private final float[] queryA;
    private final float[] queryB;
    /** The tile rows the token selected, and each query's scores then softmax weights for them. */
    private final int[] picked = new int[TILE];
    private final float[] weightsA = new float[TILE];
    private final float[] weightsB = new float[TILE];
    /** {@link #scoreFour}'s eight accumulators, spilled for adding up their lanes. */
    private final float[] spilled = new float[8 * F.length()];
    /**
     * Per token and head of the last call: running maximum score and softmax denominator; then one more, the state
     * of the zero query an odd head out is paired with, whose values go to {@link #spareOut}.
     */
    private final float[] maxima;
    private final float[] sums;
    private final int spareState;
    private final float[] spareOut;

    /**
     * Scratch for up to {@code maxTokens} tokens of up to {@code maxHeads} heads, of queries laid out as described
     * above, with softmax scale {@code scale}.
     */
    public TiledAttention(int kvLoraRank, int ropeLength, int headCount, int qStride, int ropeAt, float scale,
                          int maxHeads, int maxTokens) {
        this.kvLoraRank = kvLoraRank;
        this.width = kvLoraRank + ropeLength;
        this.headCount = headCount;
        this.qStride = qStride;
        this.ropeAt = ropeAt;
        this.scale = scale;
        this.maxHeads = maxHeads;
        this.maxTokens = maxTokens;
        this.rows = new float[TILE * width];
        this.queryA = new float[width];
        this.queryB = new float[width];
        this.spareState = maxTokens * maxHeads;
        this.maxima = new float[spareState + 1];
        this.sums = new float[spareState + 1];
        this.spareOut = new float[kvLoraRank];
    }

    /**
     * Attends heads {@code [first, first + heads)} of {@code tokens} tokens over their selected rows of
     * {@code cache}, writing each head's attention latent into {@code out}.
     *
     * @param selection per token, bit {@code p % 64} of word {@code p / 64} set when cache row p is selected; no
     *                  row at or past {@code rowEnd} is
     */
    public void attend(int tokens, int first, int heads, float[] absorbed, float[] q, MemorySegment cache,
                       long[][] selection, int rowEnd, float[] out) {
        accumulate(tokens, first, heads, absorbed, q, cache, selection, tiles(rowEnd), out);
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < heads; j++) {
                scaleRow(out, (t * headCount + first + j) * kvLoraRank, kvLoraRank, inverse(sums[t * heads + j]));
            }
        }
    }

    /**
     * {@link #attend}'s sums over tiles {@code [0, tiles)}: leaves in {@code out} each head's values summed with weights
     * relative to its largest score, and that score and the weights' sum in this instance.
     */
    private void accumulate(int tokens, int first, int heads, float[] absorbed, float[] q, MemorySegment cache,
                            long[][] selection, int tiles, float[] out) {
        if (heads > maxHeads || tokens > maxTokens) {
            throw new IllegalArgumentException(tokens + " tokens of " + heads + " heads, at most " + maxTokens + " of " + maxHeads);
        }
        int kvl = kvLoraRank;
        for (int t = 0; t < tokens; t++) {
            int at = (t * headCount + first) * kvl;
            Arrays.fill(out, at, at + heads * kvl, 0f);
        }
        Arrays.fill(maxima, 0, tokens * heads, Float.NEGATIVE_INFINITY);
        Arrays.fill(sums, 0, tokens * heads, 0f);
        maxima[spareState] = Float.NEGATIVE_INFINITY;
        sums[spareState] = 0f;
        for (int word = 0; word < tiles; word++) {
            long union = 0;
            for (int t = 0; t < tokens; t++) {
                union |= selection[t][word];
            }
            for (long bits = union; bits != 0; bits &= bits - 1) {
                int r = Long.numberOfTrailingZeros(bits);
                Halves.toFloats(cache, 2L * ((long) word * TILE + r) * width, rows, r * width, width);
            }
            for (int t = 0; t < tokens; t++) {
                int n = 0;
                for (long bits = selection[t][word]; bits != 0; bits &= bits - 1) {
                    picked[n++] = Long.numberOfTrailingZeros(bits);
                }
                for (int j = 0; n > 0 && j < heads; j += 2) {
                    int a = t * headCount + first + j;
                    load(queryA, absorbed, a, q);
                    if (j + 1 < heads) {
                        load(queryB, absorbed, a + 1, q);
                        attendTile(n, out, a * kvl, t * heads + j, out, (a + 1) * kvl, t * heads + j + 1);
                    } else {
                        // an odd head out: paired with a zero query whose result goes to scratch
                        Arrays.fill(queryB, 0f);
                        attendTile(n, out, a * kvl, t * heads + j, spareOut, 0, spareState);
                    }
                }
            }
        }
    }

    private static float inverse(float sum) {
        return sum == 0f ? 0f : 1f / sum;
    }

    private static void scaleRow(float[] out, int at, int n, float factor) {
        for (int d = at; d < at + n; d++) {
            out[d] *= factor;
        }
    }

    /** Head {@code head}'s query into {@code query}: its absorbed part, then its rope part. */
    private void load(float[] query, float[] absorbed, int head, float[] q) {
        System.arraycopy(absorbed, head * kvLoraRank, query, 0, kvLoraRank);
        System.arraycopy(q, head * qStride + ropeAt, query, kvLoraRank, width - kvLoraRank);
    }

    /**
     * Two queries' ({@link #queryA}, {@link #queryB}) scores against the {@code n} picked rows, their softmax states
     * rescaled, and the rows' values added: two heads at a time, so each row loaded serves both.
     */
    private void attendTile(int n, float[] outA, int atA, int stateA, float[] outB, int atB, int stateB) {
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            scoreFour(i);
        }
        for (; i < n; i++) {
            scoreOne(i);
        }
        softmax(n, weightsA, outA, atA, stateA);
        softmax(n, weightsB, outB, atB, stateB);
        addValues(n, outA, atA, outB, atB);
    }

    /**
     * Scales a query's {@code n} scores, rescales its sum so far to a new maximum, and turns the scores into weights
     * relative to the maximum, adding them to its softmax denominator.
     */
    private void softmax(int n, float[] weights, float[] out, int at, int state) {
        float tileMax = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            weights[i] *= scale;
            tileMax = Math.max(tileMax, weights[i]);
        }
        float max = maxima[state];
        if (tileMax > max) {
            if (sums[state] != 0f) {
                float rescale = (float) Math.exp(max - tileMax);
                sums[state] *= rescale;
                scaleRow(out, at, kvLoraRank, rescale);
            }
            max = tileMax;
            maxima[state] = max;
        }
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp(weights[i] - max);
            weights[i] = p;
            sum += p;
        }
        sums[state] += sum;
    }

    /**
     * {@code outA[atA..+kv_lora) += sum of weightsA[i] * value of picked row i}, and the same for B: two vectors of
     * each sum at a time, so each row vector loaded serves both.
     */
    private void addValues(int n, float[] outA, int atA, float[] outB, int atB) {
        int lanes = F.length(), d = 0;
        for (; d + 2 * lanes <= kvLoraRank; d += 2 * lanes) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
            for (int i = 0; i < n; i++) {
                FloatVector weightA = FloatVector.broadcast(F, weightsA[i]);
                FloatVector weightB = FloatVector.broadcast(F, weightsB[i]);
                int row = picked[i] * width + d;
                FloatVector v0 = FloatVector.fromArray(F, rows, row);
                FloatVector v1 = FloatVector.fromArray(F, rows, row + lanes);
                a0 = v0.lanewise(FMA, weightA, a0);
                a1 = v1.lanewise(FMA, weightA, a1);
                b0 = v0.lanewise(FMA, weightB, b0);
                b1 = v1.lanewise(FMA, weightB, b1);
            }
            FloatVector.fromArray(F, outA, atA + d).lanewise(VectorOperators.ADD, a0).intoArray(outA, atA + d);
            FloatVector.fromArray(F, outA, atA + d + lanes).lanewise(VectorOperators.ADD, a1).intoArray(outA, atA + d + lanes);
            FloatVector.fromArray(F, outB, atB + d).lanewise(VectorOperators.ADD, b0).intoArray(outB, atB + d);
            FloatVector.fromArray(F, outB, atB + d + lanes).lanewise(VectorOperators.ADD, b1).intoArray(outB, atB + d + lanes);
        }
        for (; d < kvLoraRank; d++) {
            float a = 0, b = 0;
            for (int i = 0; i < n; i++) {
                float v = rows[picked[i] * width + d];
                a = Math.fma(v, weightsA[i], a);
                b = Math.fma(v, weightsB[i], b);
            }
            outA[atA + d] += a;
            outB[atB + d] += b;
        }
    }

    /** Both queries' dot products with picked rows {@code first..first+3}, into the weights: each row loaded once. */
    private void scoreFour(int first) {
        int r0 = picked[first] * width, r1 = picked[first + 1] * width, r2 = picked[first + 2] * width, r3 = picked[first + 3] * width;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int lanes = F.length(), i = 0;
        for (; i + lanes <= width; i += lanes) {
            FloatVector x = FloatVector.fromArray(F, queryA, i);
            FloatVector y = FloatVector.fromArray(F, queryB, i);
            FloatVector v0 = FloatVector.fromArray(F, rows, r0 + i);
            FloatVector v1 = FloatVector.fromArray(F, rows, r1 + i);
            FloatVector v2 = FloatVector.fromArray(F, rows, r2 + i);
            FloatVector v3 = FloatVector.fromArray(F, rows, r3 + i);
            a0 = v0.lanewise(FMA, x, a0);
            a1 = v1.lanewise(FMA, x, a1);
            a2 = v2.lanewise(FMA, x, a2);
            a3 = v3.lanewise(FMA, x, a3);
            b0 = v0.lanewise(FMA, y, b0);
            b1 = v1.lanewise(FMA, y, b1);
            b2 = v2.lanewise(FMA, y, b2);
            b3 = v3.lanewise(FMA, y, b3);
        }
        // through memory: eight calls of Lanes.sum would exceed C2's inlining budget, and an uninlined one boxes
        a0.intoArray(spilled, 0);
        a1.intoArray(spilled, lanes);
        a2.intoArray(spilled, 2 * lanes);
        a3.intoArray(spilled, 3 * lanes);
        b0.intoArray(spilled, 4 * lanes);
        b1.intoArray(spilled, 5 * lanes);
        b2.intoArray(spilled, 6 * lanes);
        b3.intoArray(spilled, 7 * lanes);
        for (int k = 0; k < 4; k++) {
            int row = picked[first + k] * width;
            weightsA[first + k] = Lanes.sum(spilled, k * lanes) + tail(queryA, row, i);
            weightsB[first + k] = Lanes.sum(spilled, (4 + k) * lanes) + tail(queryB, row, i);
        }
    }

    /** Both queries' dot products with picked row {@code i}, in the order of {@link #scoreFour}. */
    private void scoreOne(int i) {
        int row = picked[i] * width;
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F);
        int lanes = F.length(), d = 0;
        for (; d + lanes <= width; d += lanes) {
            FloatVector v = FloatVector.fromArray(F, rows, row + d);
            a = v.lanewise(FMA, FloatVector.fromArray(F, queryA, d), a);
            b = v.lanewise(FMA, FloatVector.fromArray(F, queryB, d), b);
        }
        weightsA[i] = Lanes.sum(a) + tail(queryA, row, d);
        weightsB[i] = Lanes.sum(b) + tail(queryB, row, d);
    }

    /** The products past the vector loop, {@code from} on, of a query with the row at {@code row}. */
    private float tail(float[] query, int row, int from) {
        float sum = 0;
        for (int i = from; i < width; i++) {
            sum += query[i] * rows[row + i];
        }
        return sum;
    }
}
