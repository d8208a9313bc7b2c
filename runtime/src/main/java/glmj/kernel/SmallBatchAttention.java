package glmj.kernel;

import glmj.tensor.blocks.LittleEndian;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * One query's MLA attention over its selected keys, rounded as llama.cpp's CPU flash attention rounds it for a batch
 * of fewer than {@link #GGML_FA_TILE_Q} tokens: every decode step, and short prompts.
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
 *       and {@code S = S * ms + weight}, multiplied and added separately (the compiler does not fuse them there);</li>
 *   <li>writes {@code acc * (1 / S)}.</li>
 * </ol>
 * Relative to an f32 accumulation this rounds the result by up to 2^-11 per key, enough to swap a near-tie of the
 * random-weight test models' logits and end a greedy continuation's agreement with llama.cpp. Given llama.cpp's own
 * query and cache rows, the result here is its result bit for bit (SmallBatchAttentionMatchesGgmlTest).
 *
 * <p>Not covered: ggml's single-token split-KV variant, taken when llama.cpp's KV view has at least 512 cells, which
 * runs this kernel on per-thread chunks of the cache and merges their partial sums in f32 (it depends on llama.cpp's
 * thread count). llama.cpp's view is its used cells rounded up to 256, capped by its context (itself rounded up to
 * 256), so a context of at most 256 tokens, or at most 256 cached tokens, stays on this path.
 *
 * <p>One instance per concurrently computed head: it keeps scratch buffers.
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

    private static final IntVector SIGN_BITS = IntVector.broadcast(Lanes.I, 0x8000_0000);
    /** The smallest normal f16, 2^-14: below it f16 steps are 2^-24. */
    private static final FloatVector MIN_NORMAL_HALF = FloatVector.broadcast(F, 0x1p-14f);
    /** Magnitudes that round to infinity: 65504 + half a step. */
    private static final FloatVector HALF_OVERFLOW = FloatVector.broadcast(F, 65520f);
    private static final FloatVector INFINITIES = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
    private static final FloatVector HALVES = FloatVector.broadcast(F, 0.5f);
    private static final IntVector ONES = IntVector.broadcast(Lanes.I, 1);
    /** Half an f16 step less one, in an f32's mantissa: added with the kept bit's parity, it rounds to nearest even. */
    private static final IntVector ROUNDING = IntVector.broadcast(Lanes.I, 0xFFF);
    /** The f32 bits an f16 keeps: all but the low 13 of the mantissa. */
    private static final IntVector KEPT_BITS = IntVector.broadcast(Lanes.I, ~0x1FFF);

    private final int kvLoraRank;
    private final int ropeLength;
    /** The query rounded to f16: absorbed then rope part. */
    private final float[] query;
    /** Per-lane partial sums of a dot product. */
    private final float[] lanes = new float[STEP];
    /** ggml's VKQ16, held as floats of f16 values. */
    private final float[] accumulator;

    public SmallBatchAttention(int kvLoraRank, int ropeLength) {
        this.kvLoraRank = kvLoraRank;
        this.ropeLength = ropeLength;
        this.query = new float[kvLoraRank + ropeLength];
        this.accumulator = new float[kvLoraRank];
    }

    /**
     * Writes into {@code out[outOffset..+kv_lora)} the attention latent of one query: {@code absorbed[absorbedOffset..
     * +kv_lora)} and {@code rope[ropeOffset..+rope)} against the cache rows {@code keys[0..count)} of {@code cache}
     * (rows of kv_lora + rope f16 values, the latent then the rope key).
     *
     * @param keys the selected rows, in ascending order (the order ggml visits them); at least one
     */
    public void attend(float[] absorbed, int absorbedOffset, float[] rope, int ropeOffset, MemorySegment cache, int[] keys,
                       int count, float scale, float[] out, int outOffset) {
        int kvl = kvLoraRank, width = kvl + ropeLength;
        for (int i = 0; i < kvl; i++) {
            query[i] = toHalf(absorbed[absorbedOffset + i]);
        }
        for (int i = 0; i < ropeLength; i++) {
            query[kvl + i] = toHalf(rope[ropeOffset + i]);
        }
        float[] acc = accumulator;
        Arrays.fill(acc, 0f);
        float sum = 0f;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            long row = 2L * keys[i] * width;
            float s = dotF16(cache, row, width) * scale;
            float ms = 1f;
            float vs = 1f;
            if (s > max) {
                float old = max;
                max = s;
                ms = (float) Math.exp(old - max);
            } else {
                vs = (float) Math.exp(s - max);
            }
            scaleAndMadHalves(acc, kvl, ms, cache, row, vs);
            sum = sum * ms + vs;
        }
        float inverse = sum == 0f ? 0f : 1f / sum;
        for (int d = 0; d < kvl; d++) {
            out[outOffset + d] = acc[d] * inverse;
        }
    }

    /**
     * ggml_vec_scale_f16 then ggml_vec_mad_f16, {@code acc = f16(fma(x, v, f16(acc * scale)))} lane by lane, in one
     * pass; the scaling is skipped when {@code scale} is 1, which leaves f16 values as they are. One method for both,
     * called for every key, so that C2 compiles it: a helper called only when the maximum moves may be left to the
     * interpreter, which allocates every vector.
     */
    private static void scaleAndMadHalves(float[] acc, int n, float scale, MemorySegment x, long row, float v) {
        FloatVector weight = FloatVector.broadcast(F, v);
        FloatVector factor = FloatVector.broadcast(F, scale);
        boolean scaling = scale != 1f;
        int d = 0;
        for (int upper = F.loopBound(n); d < upper; d += F.length()) {
            FloatVector y = FloatVector.fromArray(F, acc, d);
            if (scaling) {
                y = toHalf(y.lanewise(VectorOperators.MUL, factor));
            }
            toHalf(Lanes.halves(x, row + 2L * d).lanewise(FMA, weight, y)).intoArray(acc, d);
        }
        for (; d < n; d++) {
            float y = scaling ? toHalf(acc[d] * scale) : acc[d];
            acc[d] = toHalf(Math.fma(half(x, row, d), v, y));
        }
    }

    /** Element {@code i} of the f16 row at byte {@code row}. */
    private static float half(MemorySegment x, long row, int i) {
        return Float.float16ToFloat(x.get(LittleEndian.SHORT, row + 2L * i));
    }

    /**
     * ggml_vec_dot_f16 of the (rounded) query with the f16 row at byte {@code row}, in its order of additions: lane l
     * of accumulator j sums elements {@code i * STEP + j * LANES + l}.
     */
    private float dotF16(MemorySegment cache, long row, int n) {
        float[] p = lanes;
        int full = n - n % STEP;
        if (G != null) {
            // one accumulator per loop: ggml's accumulator j sums elements i * STEP + j * LANES + l, so its four
            // vectors can be summed one after another (and a vector carried around a loop with others is boxed)
            for (int j = 0; j < 4; j++) {
                FloatVector sum = FloatVector.zero(G);
                for (int i = j * LANES; i < full; i += STEP) {
                    // f16 times f16 is exact in f32, so the fused multiply-add rounds once, as ggml's does
                    sum = Lanes.halves(cache, row + 2L * i).lanewise(FMA, FloatVector.fromArray(G, query, i), sum);
                }
                sum.intoArray(p, j * LANES);
            }
        } else {
            Arrays.fill(p, 0f);
            for (int i = 0; i < full; i += STEP) {
                for (int l = 0; l < STEP; l++) {
                    p[l] = Math.fma(half(cache, row, i + l), query[i + l], p[l]);
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
            sum += half(cache, row, i) * query[i];
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

    /**
     * {@link #toHalf(float)} lane-wise, for finite lanes: normal f16 magnitudes keep 11 significant bits (the low 13
     * of an f32's mantissa rounded off to nearest even); smaller ones are rounded to a multiple of 2^-24 by adding and
     * subtracting 0.5, whose f32 step is 2^-24; at or beyond 65520 they become infinite.
     */
    static FloatVector toHalf(FloatVector x) {
        IntVector bits = (IntVector) x.reinterpretShape(Lanes.I, 0);
        IntVector sign = bits.lanewise(VectorOperators.AND, SIGN_BITS);
        FloatVector magnitude = x.lanewise(VectorOperators.ABS);
        IntVector m = (IntVector) magnitude.reinterpretShape(Lanes.I, 0);
        // only lanewise, compare and blend with vector operands: see Lanes on keeping vectors' classes known to C2
        IntVector roundedBits = m.lanewise(VectorOperators.LSHR, Lanes.THIRTEENS).lanewise(VectorOperators.AND, ONES)
                .lanewise(VectorOperators.ADD, ROUNDING).lanewise(VectorOperators.ADD, m).lanewise(VectorOperators.AND, KEPT_BITS);
        FloatVector normal = (FloatVector) roundedBits.reinterpretShape(F, 0);
        FloatVector subnormal = magnitude.lanewise(VectorOperators.ADD, HALVES).lanewise(VectorOperators.SUB, HALVES);
        VectorMask<Float> small = magnitude.compare(VectorOperators.LT, MIN_NORMAL_HALF);
        FloatVector rounded = normal.blend(subnormal, small)
                .blend(INFINITIES, magnitude.compare(VectorOperators.GE, HALF_OVERFLOW));
        return (FloatVector) ((IntVector) rounded.reinterpretShape(Lanes.I, 0))
                .lanewise(VectorOperators.OR, sign).reinterpretShape(F, 0);
    }
}
