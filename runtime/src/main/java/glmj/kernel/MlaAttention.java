package glmj.kernel;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * MLA attention in its absorbed form (one shared key/value head: the cached latent and rope key) over the rows each
 * query selected: where llama.cpp's CPU flash attention takes its one-chunk kernel ({@link SmallBatchAttention#emulates}),
 * the f16 emulation of it, heads in groups of {@link #HEADS_PER_GROUP}; else summed in f32 token after token with the
 * heads in vector lanes ({@link TokenAttention}), each token's rows split into {@link #SPLITS} parts (as ggml splits
 * the cache among its threads), so a token's result is the same in any batch and alone. Holds the scratch of every
 * parallel task and the state of the step in flight; one call at a time.
 */
public final class MlaAttention {
    /**
     * Heads a small batch attends as one parallel task: they share each cache row's conversion from f16, and the
     * groups stay many enough (16 of GLM-5's 64 heads, 4 of the bench model's 16) to keep every core busy.
     */
    private static final int HEADS_PER_GROUP = 4;
    /** Parts a token's attention is split into, for as many tasks. */
    private static final int SPLITS = 8;

    /**
     * The attention's size: {@code heads} heads whose queries are {@code headKeyLength} long before absorption (the
     * rope part last, {@code ropeLength}), a latent of {@code kvLoraRank}, and the logit scale.
     */
    public record Shape(int heads, int kvLoraRank, int ropeLength, int headKeyLength, float scale) {
        int ropeFreeLength() {
            return headKeyLength - ropeLength;
        }
    }

    private final Shape shape;
    private final Kernels kernels;
    /** Per group of heads: ggml's small-batch flash attention, where llama.cpp takes it. */
    private final SmallBatchAttention[] smallBatch;
    /** A token's attention, every head at once, for the other batches. */
    private final TokenAttention token;
    private final IntConsumer attendGroup = this::attendGroup;

    // the step in flight
    private float[] absorbed;
    private float[] q;
    private MemorySegment cache;
    private Selection selection;
    private float[] out;
    private int tokens;

    /** Attention of batches of tokens of {@code shape}. */
    public MlaAttention(Shape shape, Kernels kernels) {
        this.shape = shape;
        this.kernels = kernels;
        int groups = (shape.heads() + HEADS_PER_GROUP - 1) / HEADS_PER_GROUP;
        this.smallBatch = new SmallBatchAttention[groups];
        for (int g = 0; g < groups; g++) {
            smallBatch[g] = new SmallBatchAttention(shape.kvLoraRank(), shape.ropeLength(), HEADS_PER_GROUP);
        }
        this.token = new TokenAttention(shape, SPLITS, kernels);
    }

    /**
     * Attends {@code count} tokens at positions {@code cached..} over {@code cache} (their own rows included), a
     * cache of {@code capacity} rows, each token over the rows {@code selection} chose for it. Token t's absorbed
     * queries (every head, kv_lora each) are at {@code absorbed[t * heads * kvLoraRank ..]}, its rope queries within
     * {@code q} (heads of headKeyLength, the rope part last); the latents go to {@code out}, laid out as the absorbed
     * queries.
     */
    public void attend(float[] absorbed, float[] q, MemorySegment cache, int capacity, Selection selection, int cached,
                       int count, float[] out) {
        this.absorbed = absorbed;
        this.q = q;
        this.cache = cache;
        this.selection = selection;
        this.out = out;
        this.tokens = count;
        // llama.cpp's CPU flash attention rounds differently below its query tile (see SmallBatchAttention)
        if (SmallBatchAttention.emulates(count, cached + count, capacity)) {
            kernels.parallelFor(smallBatch.length, attendGroup);
        } else {
            for (int t = 0; t < count; t++) {
                token.attend(t, absorbed, q, cache, selection.keys[t], selection.counts[t], out);
            }
        }
    }

    /**
     * Heads {@code [g * HEADS_PER_GROUP, ...)} of every token of a small batch over its selected keys, as llama.cpp's
     * one-chunk flash attention rounds it.
     */
    private void attendGroup(int g) {
        int heads = shape.heads(), kvl = shape.kvLoraRank(), qk = shape.headKeyLength();
        int first = g * HEADS_PER_GROUP, group = Math.min(HEADS_PER_GROUP, heads - first);
        for (int t = 0; t < tokens; t++) {
            int qRow = (t * heads + first) * kvl;
            smallBatch[g].attend(group, absorbed, qRow, kvl, q, (t * heads + first) * qk + shape.ropeFreeLength(), qk,
                    cache, selection.keys[t], selection.counts[t], shape.scale(), out, qRow);
        }
    }
}
