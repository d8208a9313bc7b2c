package glmj.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntConsumer;

import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * One token's MLA attention over its selected cache rows (a decoding token, or a token of a prompt's batch), with
 * the heads in the vector lanes: every head attends the same rows, so a row's element, broadcast, multiplies a vector
 * of heads' queries, and scores, softmax and weights come out as vectors of heads, with no sums across lanes. Scores
 * take four rows by four vectors of heads per pass over the width, values four heads by four vectors of the latent per
 * pass over the rows: each load serves several multiply-adds.
 *
 * <p>The selected rows are taken {@link #CHUNK} at a time, each converted from f16 once for every head; the chunks are
 * shared among parallel parts, whose partial softmax sums are then merged, as ggml merges its split-KV chunks.
 * Queries and results are laid out as {@link MlaAttention} lays them out. Heads and latent are padded to whole blocks
 * with zero queries, whose results are dropped.
 */
final class TokenAttention {
    /** Selected rows converted and attended together. */
    private static final int CHUNK = 64;
    /** Rows, or heads, or vectors, that a pass of a kernel takes four of. */
    private static final int BLOCK = 4;
    private static final VectorSpecies<Float> F = Lanes.F;
    private static final int LANES = F.length();

    private final MlaAttention.Shape shape;
    private final int width;
    /** Heads rounded up to whole vectors and whole blocks of four; the latent to whole blocks of four vectors. */
    private final int heads;
    private final int latent;
    private final Kernels kernels;
    /** The token's queries, transposed: element d of head h at {@code d * heads + h}; padded heads stay zero. */
    private final float[] queries;
    private final Part[] parts;
    private final IntConsumer attendPart = this::attendPart;

    // the step in flight
    private MemorySegment cache;
    private int[] keys;
    private int count;
    private int chunks;
    private int tasks;

    /** Attention of one token of {@code shape}, its selected rows shared among up to {@code parallelParts} tasks. */
    TokenAttention(MlaAttention.Shape shape, int parallelParts, Kernels kernels) {
        this.shape = shape;
        this.width = shape.kvLoraRank() + shape.ropeLength();
        this.heads = roundUp(shape.heads(), Math.max(LANES, BLOCK));
        this.latent = roundUp(shape.kvLoraRank(), BLOCK * LANES);
        this.kernels = kernels;
        this.queries = new float[width * heads];
        this.parts = new Part[parallelParts];
        for (int p = 0; p < parts.length; p++) {
            parts[p] = new Part();
        }
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /**
     * Attends token {@code token} of a batch over the {@code count} rows {@code keys} lists of {@code cache}: its
     * absorbed queries (every head, kv_lora each) at {@code absorbed[token * heads * kv_lora ..]}, its rope queries
     * within {@code q[token * heads * headKeyLength ..]} (heads of headKeyLength, the rope part last); every head's
     * latent into {@code out}, laid out as the absorbed queries.
     */
    void attend(int token, float[] absorbed, float[] q, MemorySegment cache, int[] keys, int count, float[] out) {
        int kvl = shape.kvLoraRank(), rope = shape.ropeLength(), qk = shape.headKeyLength(), ropeAt = shape.ropeFreeLength();
        int first = token * shape.heads();
        for (int h = 0; h < shape.heads(); h++) {
            for (int d = 0; d < kvl; d++) {
                queries[d * heads + h] = absorbed[(first + h) * kvl + d];
            }
            for (int d = 0; d < rope; d++) {
                queries[(kvl + d) * heads + h] = q[(first + h) * qk + ropeAt + d];
            }
        }
        this.cache = cache;
        this.keys = keys;
        this.count = count;
        this.chunks = (count + CHUNK - 1) / CHUNK;
        this.tasks = Math.min(parts.length, chunks);
        kernels.parallelFor(tasks, attendPart);
        combine(out, first * kvl);
    }

    /** Part {@code p}: chunks {@code [p * chunks / tasks, ...)} of the selected rows. */
    private void attendPart(int p) {
        parts[p].accumulate(p * chunks / tasks, (p + 1) * chunks / tasks);
    }

    /**
     * Every head's latent into {@code out} from {@code base}: the parts' sums, each rescaled to the largest score of
     * all, normalized.
     */
    private void combine(float[] out, int base) {
        int kvl = shape.kvLoraRank();
        for (int h = 0; h < shape.heads(); h++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int p = 0; p < tasks; p++) {
                max = Math.max(max, parts[p].maxima[h]);
            }
            int at = base + h * kvl;
            Arrays.fill(out, at, at + kvl, 0f);
            float sum = 0;
            for (int p = 0; p < tasks; p++) {
                Part part = parts[p];
                if (part.sums[h] == 0f) {
                    continue;
                }
                float weight = (float) Math.exp(part.maxima[h] - max);
                sum += part.sums[h] * weight;
                FloatVector weights = FloatVector.broadcast(F, weight);
                int d = 0;
                for (; d + LANES <= kvl; d += LANES) {
                    FloatVector.fromArray(F, part.latents, h * latent + d)
                            .lanewise(FMA, weights, FloatVector.fromArray(F, out, at + d)).intoArray(out, at + d);
                }
                for (; d < kvl; d++) {
                    out[at + d] = Math.fma(part.latents[h * latent + d], weight, out[at + d]);
                }
            }
            float inverse = sum == 0f ? 0f : 1f / sum;
            for (int d = at; d < at + kvl; d++) {
                out[d] *= inverse;
            }
        }
    }

    /** A parallel part's scratch and its share of the softmax: a running maximum, sum and latent per head. */
    private final class Part {
        /** The chunk's rows as floats, row r at {@code r * width}, and a latent's padding past the last. */
        private final float[] rows = new float[CHUNK * width + latent];
        /** Per row of the chunk, every head's score and then its softmax weight: row r at {@code r * heads}. */
        private final float[] scores = new float[CHUNK * heads];
        private final float[] maxima = new float[heads];
        private final float[] sums = new float[heads];
        private final float[] factors = new float[heads];
        /** Head h's values summed with weights relative to its maximum, at {@code h * latent}. */
        private final float[] latents = new float[heads * latent];

        void accumulate(int fromChunk, int toChunk) {
            Arrays.fill(latents, 0f);
            Arrays.fill(maxima, Float.NEGATIVE_INFINITY);
            Arrays.fill(sums, 0f);
            for (int chunk = fromChunk; chunk < toChunk; chunk++) {
                int first = chunk * CHUNK, n = Math.min(CHUNK, count - first);
                for (int i = 0; i < n; i++) {
                    Halves.toFloats(cache, 2L * keys[first + i] * width, rows, i * width, width);
                }
                // the score kernel takes four rows at a time: rows past n score against zeros and get no weight
                int whole = roundUp(n, BLOCK);
                Arrays.fill(rows, n * width, whole * width, 0f);
                score(whole);
                softmax(n);
                addValues(n);
            }
        }

        /** The scores of rows {@code [0, n)}, n a multiple of four: four rows by four vectors of heads per pass. */
        private void score(int n) {
            int vectors = heads / LANES;
            for (int r = 0; r < n; r += BLOCK) {
                int r0 = r * width, r1 = r0 + width, r2 = r1 + width, r3 = r2 + width;
                int v = 0;
                for (; v + BLOCK <= vectors; v += BLOCK) {
                    int h = v * LANES;
                    FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
                    FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
                    FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
                    FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
                    for (int d = 0, at = h; d < width; d++, at += heads) {
                        FloatVector q0 = FloatVector.fromArray(F, queries, at);
                        FloatVector q1 = FloatVector.fromArray(F, queries, at + LANES);
                        FloatVector q2 = FloatVector.fromArray(F, queries, at + 2 * LANES);
                        FloatVector q3 = FloatVector.fromArray(F, queries, at + 3 * LANES);
                        FloatVector x = FloatVector.broadcast(F, rows[r0 + d]);
                        a00 = q0.lanewise(FMA, x, a00);
                        a01 = q1.lanewise(FMA, x, a01);
                        a02 = q2.lanewise(FMA, x, a02);
                        a03 = q3.lanewise(FMA, x, a03);
                        x = FloatVector.broadcast(F, rows[r1 + d]);
                        a10 = q0.lanewise(FMA, x, a10);
                        a11 = q1.lanewise(FMA, x, a11);
                        a12 = q2.lanewise(FMA, x, a12);
                        a13 = q3.lanewise(FMA, x, a13);
                        x = FloatVector.broadcast(F, rows[r2 + d]);
                        a20 = q0.lanewise(FMA, x, a20);
                        a21 = q1.lanewise(FMA, x, a21);
                        a22 = q2.lanewise(FMA, x, a22);
                        a23 = q3.lanewise(FMA, x, a23);
                        x = FloatVector.broadcast(F, rows[r3 + d]);
                        a30 = q0.lanewise(FMA, x, a30);
                        a31 = q1.lanewise(FMA, x, a31);
                        a32 = q2.lanewise(FMA, x, a32);
                        a33 = q3.lanewise(FMA, x, a33);
                    }
                    // stored here, not by a helper: a vector argument of a method C2 does not inline is boxed
                    int s0 = r * heads + h, s1 = s0 + heads, s2 = s1 + heads, s3 = s2 + heads;
                    a00.intoArray(scores, s0);
                    a01.intoArray(scores, s0 + LANES);
                    a02.intoArray(scores, s0 + 2 * LANES);
                    a03.intoArray(scores, s0 + 3 * LANES);
                    a10.intoArray(scores, s1);
                    a11.intoArray(scores, s1 + LANES);
                    a12.intoArray(scores, s1 + 2 * LANES);
                    a13.intoArray(scores, s1 + 3 * LANES);
                    a20.intoArray(scores, s2);
                    a21.intoArray(scores, s2 + LANES);
                    a22.intoArray(scores, s2 + 2 * LANES);
                    a23.intoArray(scores, s2 + 3 * LANES);
                    a30.intoArray(scores, s3);
                    a31.intoArray(scores, s3 + LANES);
                    a32.intoArray(scores, s3 + 2 * LANES);
                    a33.intoArray(scores, s3 + 3 * LANES);
                }
                // vectors of heads past the last whole block, one at a time
                for (; v < vectors; v++) {
                    int h = v * LANES;
                    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                    for (int d = 0, at = h; d < width; d++, at += heads) {
                        FloatVector q0 = FloatVector.fromArray(F, queries, at);
                        a0 = q0.lanewise(FMA, FloatVector.broadcast(F, rows[r0 + d]), a0);
                        a1 = q0.lanewise(FMA, FloatVector.broadcast(F, rows[r1 + d]), a1);
                        a2 = q0.lanewise(FMA, FloatVector.broadcast(F, rows[r2 + d]), a2);
                        a3 = q0.lanewise(FMA, FloatVector.broadcast(F, rows[r3 + d]), a3);
                    }
                    a0.intoArray(scores, r * heads + h);
                    a1.intoArray(scores, (r + 1) * heads + h);
                    a2.intoArray(scores, (r + 2) * heads + h);
                    a3.intoArray(scores, (r + 3) * heads + h);
                }
            }
        }

        /**
         * Scales the {@code n} rows' scores, rescales each head's sums so far to its new maximum, and turns the scores
         * into weights relative to it, adding them to the head's softmax denominator: a vector of heads at a time.
         */
        private void softmax(int n) {
            FloatVector scale = FloatVector.broadcast(F, shape.scale());
            for (int h = 0; h < heads; h += LANES) {
                FloatVector chunkMax = FloatVector.fromArray(F, scores, h).lanewise(VectorOperators.MUL, scale);
                for (int s = h; s < n * heads; s += heads) {
                    FloatVector scaled = FloatVector.fromArray(F, scores, s).lanewise(VectorOperators.MUL, scale);
                    scaled.intoArray(scores, s);
                    chunkMax = scaled.lanewise(VectorOperators.MAX, chunkMax);
                }
                FloatVector max = FloatVector.fromArray(F, maxima, h);
                FloatVector newMax = max.lanewise(VectorOperators.MAX, chunkMax);
                newMax.intoArray(maxima, h);
                // the exponents: old maximum - new (-infinity where nothing was summed yet), each score - new
                max.lanewise(VectorOperators.SUB, newMax).intoArray(factors, h);
                for (int s = h; s < n * heads; s += heads) {
                    FloatVector.fromArray(F, scores, s).lanewise(VectorOperators.SUB, newMax).intoArray(scores, s);
                }
            }
            Exponentials.expInPlace(factors, 0, heads);
            Exponentials.expInPlace(scores, 0, n * heads);
            // a head's latent rescaled where its maximum rose; one with nothing summed yet (sum 0) is still all zeros
            for (int h = 0; h < heads; h++) {
                if (factors[h] != 1f && sums[h] != 0f) {
                    FloatVector factor = FloatVector.broadcast(F, factors[h]);
                    for (int d = h * latent; d < (h + 1) * latent; d += LANES) {
                        FloatVector.fromArray(F, latents, d).lanewise(VectorOperators.MUL, factor).intoArray(latents, d);
                    }
                }
            }
            for (int h = 0; h < heads; h += LANES) {
                FloatVector sum = FloatVector.fromArray(F, sums, h).lanewise(VectorOperators.MUL, FloatVector.fromArray(F, factors, h));
                for (int s = h; s < n * heads; s += heads) {
                    sum = FloatVector.fromArray(F, scores, s).lanewise(VectorOperators.ADD, sum);
                }
                sum.intoArray(sums, h);
            }
        }

        /** Every head's latent {@code +=} the weighted sum of the {@code n} rows: four heads by four vectors per pass. */
        private void addValues(int n) {
            for (int h = 0; h < heads; h += BLOCK) {
                for (int d = 0; d < latent; d += BLOCK * LANES) {
                    FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
                    FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
                    FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
                    FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
                    for (int r = 0, row = d, s = h; r < n; r++, row += width, s += heads) {
                        FloatVector v0 = FloatVector.fromArray(F, rows, row);
                        FloatVector v1 = FloatVector.fromArray(F, rows, row + LANES);
                        FloatVector v2 = FloatVector.fromArray(F, rows, row + 2 * LANES);
                        FloatVector v3 = FloatVector.fromArray(F, rows, row + 3 * LANES);
                        FloatVector w = FloatVector.broadcast(F, scores[s]);
                        a00 = v0.lanewise(FMA, w, a00);
                        a01 = v1.lanewise(FMA, w, a01);
                        a02 = v2.lanewise(FMA, w, a02);
                        a03 = v3.lanewise(FMA, w, a03);
                        w = FloatVector.broadcast(F, scores[s + 1]);
                        a10 = v0.lanewise(FMA, w, a10);
                        a11 = v1.lanewise(FMA, w, a11);
                        a12 = v2.lanewise(FMA, w, a12);
                        a13 = v3.lanewise(FMA, w, a13);
                        w = FloatVector.broadcast(F, scores[s + 2]);
                        a20 = v0.lanewise(FMA, w, a20);
                        a21 = v1.lanewise(FMA, w, a21);
                        a22 = v2.lanewise(FMA, w, a22);
                        a23 = v3.lanewise(FMA, w, a23);
                        w = FloatVector.broadcast(F, scores[s + 3]);
                        a30 = v0.lanewise(FMA, w, a30);
                        a31 = v1.lanewise(FMA, w, a31);
                        a32 = v2.lanewise(FMA, w, a32);
                        a33 = v3.lanewise(FMA, w, a33);
                    }
                    // added here, not by a helper: a vector argument of a method C2 does not inline is boxed
                    int l0 = h * latent + d, l1 = l0 + latent, l2 = l1 + latent, l3 = l2 + latent;
                    a00.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l0)).intoArray(latents, l0);
                    a01.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l0 + LANES)).intoArray(latents, l0 + LANES);
                    a02.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l0 + 2 * LANES)).intoArray(latents, l0 + 2 * LANES);
                    a03.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l0 + 3 * LANES)).intoArray(latents, l0 + 3 * LANES);
                    a10.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l1)).intoArray(latents, l1);
                    a11.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l1 + LANES)).intoArray(latents, l1 + LANES);
                    a12.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l1 + 2 * LANES)).intoArray(latents, l1 + 2 * LANES);
                    a13.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l1 + 3 * LANES)).intoArray(latents, l1 + 3 * LANES);
                    a20.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l2)).intoArray(latents, l2);
                    a21.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l2 + LANES)).intoArray(latents, l2 + LANES);
                    a22.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l2 + 2 * LANES)).intoArray(latents, l2 + 2 * LANES);
                    a23.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l2 + 3 * LANES)).intoArray(latents, l2 + 3 * LANES);
                    a30.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l3)).intoArray(latents, l3);
                    a31.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l3 + LANES)).intoArray(latents, l3 + LANES);
                    a32.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l3 + 2 * LANES)).intoArray(latents, l3 + 2 * LANES);
                    a33.lanewise(VectorOperators.ADD, FloatVector.fromArray(F, latents, l3 + 3 * LANES)).intoArray(latents, l3 + 3 * LANES);
                }
            }
        }
    }
}
