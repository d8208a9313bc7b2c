package glmj.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * One query's MLA attention over its selected keys, rounded as llama.cpp's CPU flash attention rounds it for a batch
 * of fewer than {@link #GGML_FA_TILE_Q} tokens: short prompts, and decode steps while llama.cpp keeps them on this
 * kernel ({@link #emulates}).
 *
 * <p>ggml ({@code ggml_compute_forward_flash_attn_ext_f16} in ggml-cpu/ops.cpp) sends a batch with at least
 * GGML_FA_TILE_Q query rows to its tiled kernel, which accumulates in f32 (what {@link GlmDsa} does), and a smaller
 * one to {@code ggml_compute_forward_flash_attn_ext_f16_one_chunk}. glm-dsa's graph hands that op, per token and head,
 * the query {@code [q_nope absorbed by attn_k_b (kv_lora) | rotated q_pe (rope)]}, the cached rows
 * {@code [normalized kv latent | rotated k_pe]} (f16) as K, their latent part as V, the scale, and a mask that is 0
 * for the keys the DSA indexer kept (and causality allows) and -inf elsewhere. For one query row the one-chunk kernel:
 * <ol>
 *   <li>rounds the query to f16 (K's vec_dot_type);</li>
 *   <li>visits the cache rows in ascending position, skipping the -inf ones;</li>
 *   <li>scores a row with {@code ggml_vec_dot_f16}: f16 products (exact in f32) summed into 4 vectors of f32 lanes,
 *       64 elements a step with AVX-512 (32 with AVX2), those vectors added pairwise and their lanes summed in a
 *       fixed tree; the tail past the last full step added one by one in double; then rounded to float and
 *       multiplied by the scale;</li>
 *   <li>keeps an online softmax whose V accumulator is f16, V being f16: on a new maximum M,
 *       {@code acc = f16(acc * expf(M_old - M))} ({@code ggml_vec_scale_f16}) and the row's weight is 1, otherwise
 *       the weight is {@code expf(s - M)}; then {@code acc = f16(fma(v, weight, acc))} ({@code ggml_vec_mad_f16});
 *       and {@code S = S * ms + weight}, multiplied and added separately (the compiler does not fuse them there);
 *       expf being the C library's ({@link CMath#expf});</li>
 *   <li>writes {@code acc * (1 / S)}.</li>
 * </ol>
 * Relative to an f32 accumulation this rounds the result by up to 2^-11 per key, enough to swap a near-tie of the
 * random-weight test models' logits and end a greedy continuation's agreement with llama.cpp. Given llama.cpp's own
 * query and cache rows, the result here is its result bit for bit (SmallBatchAttentionMatchesGgmlTest).
 *
 * <p>Not emulated: ggml's single-token split-KV variant, taken when llama.cpp's KV view has at least 512 cells, which
 * runs this kernel on per-thread chunks of the cache and merges their partial sums in f32, so that its result depends
 * on llama.cpp's thread count. llama.cpp's view is its used cells rounded up to 256, capped by its context (itself
 * rounded up to 256): a context of at most 256 tokens, or at most 256 cached tokens, stays on this path. Past that,
 * glmj sums in f32 ({@link TokenAttention}), within this kernel's f16 roundings of llama.cpp's result and faster.
 *
 * <p>Several heads are computed together: they share the cache rows (MLA attends as one shared key/value head), so each
 * row is converted from f16 once per group and not once per head; the results do not depend on the grouping. One
 * instance per concurrently computed group: it keeps scratch buffers.
 */
public final class SmallBatchAttention {
    /**
     * ggml's GGML_FA_TILE_Q (ggml-cpu/common.h): a batch of at least this many tokens takes the tiled f32 kernel, a
     * smaller one this kernel.
     */
    public static final int GGML_FA_TILE_Q = 64;

    /** Element-wise work (f16 rounding of the accumulator) in the kernels' float vectors. */
    private static final VectorSpecies<Float> F = Lanes.F;
    /**
     * f32 lanes of ggml's f16 vectors (GGML_F16_EPR) in the CPU variant llama.cpp loads on x86: 16 with AVX-512, 8
     * with AVX2; taken from the JVM's widest float vector. (ARM builds sum f16 dot products in f16: not emulated.)
     */
    static final int LANES = F.length() >= 16 ? 16 : 8;
    /** ggml's f16 vectors as the kernels' float vectors, when they are that wide; else the dot product is scalar. */
    private static final VectorSpecies<Float> G = F.length() == LANES ? F : null;
    /** Elements ggml_vec_dot_f16 takes per step: GGML_F16_STEP, 4 vectors. */
    private static final int STEP = 4 * LANES;

    /** llama.cpp's KV cache view grows in steps of this many cells (llama_kv_cache::get_n_kv). */
    private static final int LLAMA_KV_PAD = 256;
    /** ggml splits a single token's attention among its threads from this many cells of view on. */
    private static final int GGML_SPLIT_KV_CELLS = 512;

    /**
     * Whether llama.cpp attends a batch of {@code tokens} with the kernel emulated here, when its cache holds
     * {@code cells} tokens (the batch included) of a context of {@code nCtx}.
     */
    public static boolean emulates(int tokens, int cells, int nCtx) {
        if (tokens >= GGML_FA_TILE_Q) {
            return false;
        }
        int view = Math.min(padded(nCtx), Math.max(LLAMA_KV_PAD, padded(cells)));
        return tokens > 1 || view < GGML_SPLIT_KV_CELLS;
    }

    private static int padded(int cells) {
        return (cells + LLAMA_KV_PAD - 1) / LLAMA_KV_PAD * LLAMA_KV_PAD;
    }

    private final int kvLoraRank;
    private final int ropeLength;
    private final int maxHeads;
    /** Each head's query rounded to f16, absorbed then rope part, one row after another. */
    private final float[] queries;
    /** The cache row being visited, as floats: latent (the value) then rope key. */
    private final float[] row;
    /** Per-lane partial sums of a dot product. */
    private final float[] lanes = new float[STEP];
    /** Each head's ggml VKQ16, held as floats of f16 values, one row after another. */
    private final float[] accumulators;
    /** Each head's running maximum score and softmax denominator. */
    private final float[] maxima;
    private final float[] sums;

    /** Scratch for groups of up to {@code maxHeads} heads. */
    public SmallBatchAttention(int kvLoraRank, int ropeLength, int maxHeads) {
        this.kvLoraRank = kvLoraRank;
        this.ropeLength = ropeLength;
        this.maxHeads = maxHeads;
        this.queries = new float[maxHeads * (kvLoraRank + ropeLength)];
        this.row = new float[kvLoraRank + ropeLength];
        this.accumulators = new float[maxHeads * kvLoraRank];
        this.maxima = new float[maxHeads];
        this.sums = new float[maxHeads];
    }

    /**
     * Writes into {@code out[outOffset + j*kv_lora ..+kv_lora)} the attention latent of query j of {@code heads}:
     * {@code absorbed[absorbedOffset + j*absorbedStride ..+kv_lora)} and {@code rope[ropeOffset + j*ropeStride
     * ..+rope)}, against the cache rows {@code keys[0..count)} of {@code cache} (rows of kv_lora + rope f16 values,
     * the latent then the rope key).
     *
     * @param keys the selected rows, in ascending order (the order ggml visits them); at least one
     */
    public void attend(int heads, float[] absorbed, int absorbedOffset, int absorbedStride, float[] rope, int ropeOffset,
                       int ropeStride, MemorySegment cache, int[] keys, int count, float scale, float[] out, int outOffset) {
        if (heads > maxHeads) {
            throw new IllegalArgumentException(heads + " heads in a group, at most " + maxHeads);
        }
        int kvl = kvLoraRank, width = kvl + ropeLength;
        for (int j = 0; j < heads; j++) {
            for (int i = 0; i < kvl; i++) {
                queries[j * width + i] = toHalf(absorbed[absorbedOffset + j * absorbedStride + i]);
            }
            for (int i = 0; i < ropeLength; i++) {
                queries[j * width + kvl + i] = toHalf(rope[ropeOffset + j * ropeStride + i]);
            }
        }
        Arrays.fill(accumulators, 0, heads * kvl, 0f);
        Arrays.fill(sums, 0, heads, 0f);
        Arrays.fill(maxima, 0, heads, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < count; i++) {
            Halves.toFloats(cache, 2L * keys[i] * width, row, 0, width);
            for (int j = 0; j < heads; j++) {
                float s = dot(queries, j * width, row, width) * scale;
                float ms = 1f;
                float vs = 1f;
                if (s > maxima[j]) {
                    float old = maxima[j];
                    maxima[j] = s;
                    ms = CMath.expf(old - s);
                } else {
                    vs = CMath.expf(s - maxima[j]);
                }
                scaleAndMad(accumulators, j * kvl, kvl, ms, row, vs);
                sums[j] = sums[j] * ms + vs;
            }
        }
        for (int j = 0; j < heads; j++) {
            float inverse = sums[j] == 0f ? 0f : 1f / sums[j];
            for (int d = 0; d < kvl; d++) {
                out[outOffset + j * kvl + d] = accumulators[j * kvl + d] * inverse;
            }
        }
    }

    /**
     * ggml_vec_scale_f16 then ggml_vec_mad_f16 on the accumulator at {@code at}: {@code acc = f16(fma(v, weight,
     * f16(acc * scale)))} lane by lane; the scaling is skipped when {@code scale} is 1, which leaves f16 values as they
     * are. The roundings are plain loops of {@link #toHalf(float)}, which C2 vectorizes into the CPU's f16
     * conversions: faster than rounding in vector arithmetic, which takes a dozen operations a vector.
     */
    private static void scaleAndMad(float[] acc, int at, int n, float scale, float[] v, float weight) {
        if (scale != 1f) {
            for (int d = at; d < at + n; d++) {
                acc[d] = toHalf(acc[d] * scale);
            }
        }
        FloatVector weights = FloatVector.broadcast(F, weight);
        int d = 0;
        for (int upper = F.loopBound(n); d < upper; d += F.length()) {
            FloatVector.fromArray(F, v, d).lanewise(FMA, weights, FloatVector.fromArray(F, acc, at + d)).intoArray(acc, at + d);
        }
        for (; d < n; d++) {
            acc[at + d] = Math.fma(v[d], weight, acc[at + d]);
        }
        for (int i = at; i < at + n; i++) {
            acc[i] = toHalf(acc[i]);
        }
    }

    /**
     * ggml_vec_dot_f16 of the (rounded) query at {@code query[at..]} with the row (f16 values, as floats), in its
     * order of additions: lane l of accumulator j sums elements {@code i * STEP + j * LANES + l}.
     */
    private float dot(float[] query, int at, float[] row, int n) {
        float[] p = lanes;
        int full = n - n % STEP;
        if (G != null) {
            // one accumulator per loop: ggml's accumulator j sums elements i * STEP + j * LANES + l, so its four
            // vectors can be summed one after another (and a vector carried around a loop with others is boxed)
            for (int j = 0; j < 4; j++) {
                FloatVector sum = FloatVector.zero(G);
                for (int i = j * LANES; i < full; i += STEP) {
                    // f16 times f16 is exact in f32, so the fused multiply-add rounds once, as ggml's does
                    sum = FloatVector.fromArray(G, row, i).lanewise(FMA, FloatVector.fromArray(G, query, at + i), sum);
                }
                sum.intoArray(p, j * LANES);
            }
        } else {
            Arrays.fill(p, 0f);
            for (int i = 0; i < full; i += STEP) {
                for (int l = 0; l < STEP; l++) {
                    p[l] = Math.fma(row[i + l], query[at + i + l], p[l]);
                }
            }
        }
        // GGML_F16_VEC_REDUCE: vectors 0 += 2, 1 += 3, 0 += 1
        for (int l = 0; l < LANES; l++) {
            p[l] = (p[l] + p[2 * LANES + l]) + (p[LANES + l] + p[3 * LANES + l]);
        }
        double sum = LANES == 16 ? reduce16(p) : reduce8(p);
        // the tail one product at a time, added in double (ggml_float)
        for (int i = full; i < n; i++) {
            sum += row[i] * query[at + i];
        }
        return (float) sum;
    }

    /** GCC's _mm512_reduce_add_ps: halves added, 256 then 128 bits, then lanes {0+2, 1+3}, then those two. */
    private static float reduce16(float[] p) {
        float q0 = (p[0] + p[8]) + (p[4] + p[12]);
        float q1 = (p[1] + p[9]) + (p[5] + p[13]);
        float q2 = (p[2] + p[10]) + (p[6] + p[14]);
        float q3 = (p[3] + p[11]) + (p[7] + p[15]);
        return (q0 + q2) + (q1 + q3);
    }

    /** GGML_F32x8_REDUCE's tail: 128-bit halves added, then two horizontal adds: (0+1) + (2+3). */
    private static float reduce8(float[] p) {
        float a = p[0] + p[4], b = p[1] + p[5], c = p[2] + p[6], d = p[3] + p[7];
        return (a + b) + (c + d);
    }

    /** {@code x} rounded to the nearest f16 (ties to even), as a float: what an f16 store and load give. */
    static float toHalf(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }
}
