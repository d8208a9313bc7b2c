package glmj.model;

import glmj.generate.ContextFullException;
import glmj.gguf.GGUFFormatException;
import glmj.gguf.PageAdvice;
import glmj.gguf.TensorSource;
import glmj.kernel.Kernels;
import glmj.kernel.LightningIndexer;
import glmj.kernel.MlaAttention;
import glmj.kernel.Rows;
import glmj.kernel.RoutedExperts;
import glmj.tensor.blocks.LittleEndian;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * The glm-dsa (GLM-5) forward pass as llama.cpp v0.5.0 computes it ({@code src/models/glm-dsa.cpp}): per layer an RMS
 * norm, MLA attention in its absorbed form restricted to the keys the DSA lightning indexer chose, the residual, an RMS
 * norm, a dense SwiGLU FFN (leading layers) or a sigmoid-routed MoE with a shared expert, the residual. A batch of
 * tokens (prefill) and a single token (decode) take the same path. The model says what each step computes; the
 * {@link Kernels} decide how (kernels, threads, attention's kernel choice, the experts' schedule).
 */
public final class GlmDsa {
    /** A {@link #forward} that is never cancelled. */
    public static final BooleanSupplier NEVER = () -> false;

    private final GlmDsaConfig c;
    private final Kernels k;
    private final Weights w;
    private final Rope rope;
    private final ExpertRouter router;
    private final int nCtx;
    private final int maxBatch;
    private final State s;
    private final MlaAttention attention;
    private final LightningIndexer indexer;
    private final RoutedExperts experts;
    /** Per layer: where its FFN's gate and up projections go, gates then ups; and its ups alone. */
    private final Rows[] gateUpRows, upRows;
    /** The position and count {@code s.ropeAngles} were computed for. */
    private int anglesFrom = -1, anglesCount;
    /** Where a MoE layer tells of its chosen experts' pages before the shared expert runs; null: nowhere. */
    private PageAdvice expertAdvice;

    /**
     * Reads every tensor glm-dsa needs from {@code file}, each checked against the shape and type it must have.
     *
     * @param nCtx     tokens a cache of this model holds, at most the model's context_length
     * @param maxBatch most tokens one {@link #forward} call takes
     */
    public GlmDsa(TensorSource file, int nCtx, int maxBatch, Kernels kernels) {
        int vocab = Math.toIntExact(file.tensor("token_embd.weight").dim(1));
        this.c = GlmDsaConfig.from(file.metadata(), vocab);
        if (nCtx < 1 || nCtx > c.contextLength()) {
            throw new IllegalArgumentException("n_ctx " + nCtx + " is outside [1, " + c.contextLength() + "] (context_length)");
        }
        this.k = kernels;
        this.w = new Weights(file, c);
        for (glmj.kernel.Weight weight : w.matrices()) {
            if (!kernels.multiplies(weight.type())) {
                throw new GGUFFormatException(file.path(), "tensor " + weight.name() + " is " + weight.type().ggmlName
                        + ", which these kernels cannot multiply" + (weight.type().dotKernel() == null ? " (ggml's can)" : ""));
            }
        }
        if (!w.tokenEmbd.type().isReadable()) {
            throw new GGUFFormatException(file.path(), "tensor token_embd.weight is " + w.tokenEmbd.type().ggmlName + ", which glmj cannot read");
        }
        this.rope = new Rope(c.rope());
        this.router = ExpertRouter.of(c);
        this.nCtx = nCtx;
        this.maxBatch = maxBatch;
        this.s = new State(c, nCtx, maxBatch);
        this.attention = kernels.attention(new MlaAttention.Shape(c.headCount(), c.kvLoraRank(), c.ropeLength(),
                c.headKeyLength(), c.attentionScale()));
        this.indexer = kernels.indexer(new LightningIndexer.Shape(c.indexerHeadCount(), c.indexerHeadLength(), c.indexerTopK()),
                maxBatch, nCtx);
        int maxUsed = 0, maxFf = 0;
        this.gateUpRows = new Rows[c.layerCount()];
        this.upRows = new Rows[c.layerCount()];
        for (int il = 0; il < c.layerCount(); il++) {
            maxUsed = Math.max(maxUsed, c.expertUsedCount()[il]);
            maxFf = Math.max(maxFf, c.expertFeedForwardLength()[il]);
            int ff = w.layers[il].ffn.gate().rows();
            gateUpRows[il] = new Rows(s.ffnGateUp, 0, s.upOffset, ff);
            upRows[il] = new Rows(s.ffnGateUp, s.upOffset, 0, ff);
        }
        this.experts = c.expertCount() > 0 ? kernels.experts(c.expertCount(), maxUsed, c.embeddingLength(), maxFf, maxBatch) : null;
    }

    public GlmDsaConfig config() {
        return c;
    }

    /**
     * Each MoE layer gives {@code advice} the pages of the experts its router picked as soon as it has picked them
     * ({@link glmj.gguf.Paging#willNeed}: the OS reads them from disk while the shared expert is computed), for weights
     * that do not stay in memory; null (the default) gives none, as asking costs time when they do.
     */
    public void prefetchExperts(PageAdvice advice) {
        this.expertAdvice = advice;
    }

    /** A new, empty cache of n_ctx tokens: one sequence's. */
    public KvCache newCache() {
        return new KvCache(c, nCtx);
    }

    /** A new, empty cache of {@code capacity} tokens, at most n_ctx. */
    public KvCache newCache(int capacity) {
        if (capacity < 1 || capacity > nCtx) {
            throw new IllegalArgumentException("a cache of " + capacity + " tokens in a model of n_ctx " + nCtx);
        }
        return new KvCache(c, capacity);
    }

    /** n_ctx: tokens a cache of this model holds at most. */
    public int contextSize() {
        return nCtx;
    }

    /** Most tokens one {@link #forward} call takes. */
    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Runs {@code count} tokens at the cache's next positions, caching them. With {@code allLogits} writes the logits of
     * every token ({@code count * vocabularySize} floats) into {@code logits}, else only those of the last token.
     *
     * @throws ContextFullException when the tokens do not fit in the cache
     */
    public void forward(KvCache cache, int[] tokens, int offset, int count, float[] logits, boolean allLogits) {
        forward(cache, tokens, offset, count, logits, allLogits, null, NEVER);
    }

    /**
     * {@link #forward(KvCache, int[], int, int, float[], boolean)} showing {@code probe} (if not null) the residual
     * stream between layers, which it may replace, and asking {@code cancelled} before each layer and, through the
     * kernels ({@link Kernels#cancelWhen}), before each parallel step and task within it.
     *
     * @throws CancellationException when {@code cancelled} says so; the cache then holds what it held before
     */
    public void forward(KvCache cache, int[] tokens, int offset, int count, float[] logits, boolean allLogits,
                        LayerProbe probe, BooleanSupplier cancelled) {
        if (count < 1 || count > maxBatch) {
            throw new IllegalArgumentException("batch of " + count + " tokens, expected 1.." + maxBatch);
        }
        if (cache.position() + count > cache.capacity()) {
            throw new ContextFullException(cache.position(), count, cache.capacity());
        }
        embed(tokens, offset, count, s.x);
        int rows = count;
        k.cancelWhen(cancelled);
        try {
            for (int il = 0; il < c.layerCount(); il++) {
                if (cancelled.getAsBoolean()) {
                    throw new CancellationException("cancelled before layer " + il);
                }
                if (probe != null) {
                    probe.residual(il, s.x, rows);
                }
                // past the last attention only the last token's row is wanted, as llama.cpp's graph selects it there
                rows = layer(il, cache, s.x, rows, il == c.layerCount() - 1 && !allLogits ? count - 1 : 0);
            }
            if (probe != null) {
                probe.residual(c.layerCount(), s.x, rows);
            }
            output(s.x, rows, logits);
        } finally {
            k.cancelWhen(NEVER);
        }
        cache.advance(count);
    }

    /** The token embeddings ({@code token_embd}) of {@code count} tokens into {@code x}, a row each. */
    public void embed(int[] tokens, int offset, int count, float[] x) {
        for (int t = 0; t < count; t++) {
            int token = tokens[offset + t];
            if (token < 0 || token >= c.vocabularySize()) {
                throw new IllegalArgumentException("token id " + token + " at index " + (offset + t) + " is outside the vocabulary of " + c.vocabularySize());
            }
            k.row(w.tokenEmbd, token, x, t * c.embeddingLength());
        }
    }

    /**
     * Layer {@code il} on the residual stream {@code x} of {@code count} tokens at the cache's next positions, in place:
     * it caches their keys in the layer's part of {@code cache} (the cache's position moves on only in
     * {@link #forward}, or by {@link KvCache#advance} when the layers a runner uses have run). Past attention only the
     * rows from {@code keepFrom} on go on (as llama.cpp's graph keeps only the rows a batch wants logits of), moved to
     * the front of {@code x}; returns how many, {@code count - keepFrom} (none: the layer only caches).
     */
    public int layer(int il, KvCache cache, float[] x, int count, int keepFrom) {
        if (keepFrom < 0 || keepFrom > count) {
            throw new IllegalArgumentException("rows from " + keepFrom + " of a batch of " + count);
        }
        Weights.Layer l = w.layers[il];
        int e = c.embeddingLength();
        int cached = cache.position();
        angles(cached, count);

        rmsnorm(x, l.attnNorm, s.h, count);                                     // attn_norm
        selfAttention(il, l, cache, cached, count);                             // s.attnOut
        int rows = count - keepFrom;
        if (keepFrom > 0) {
            System.arraycopy(x, keepFrom * e, x, 0, rows * e);
            System.arraycopy(s.attnOut, keepFrom * e, s.attnOut, 0, rows * e);
        }
        if (rows == 0) {
            return 0;
        }
        add(x, s.attnOut, rows * e);                                            // ffn_inp
        rmsnorm(x, l.ffnNorm, s.h, rows);                                       // ffn_norm
        if (c.isMoe(il)) {
            moe(il, l, rows);                                                   // s.ffnOut
        } else {
            ffn(il, l.ffn, s.h, s.ffnOut, rows);
        }
        add(x, s.ffnOut, rows * e);                                             // l_out
        return rows;
    }

    /** The output norm and head: the logits of the {@code rows} rows of {@code x}, a row of vocabulary size each. */
    public void output(float[] x, int rows, float[] logits) {
        rmsnorm(x, w.outputNorm, s.h, rows);
        k.matmul(w.output, s.h, logits, rows);
    }

    /** Bytes {@link #saveSelection} writes for a batch of {@code count} tokens. */
    public long selectionBytes(int count) {
        return s.selection.bytes(count);
    }

    /**
     * Saves the keys the last full indexer layer chose for the batch of {@code count} tokens it ran, for a runner that
     * passes other batches through that layer before this one reaches the layers that reuse the choice.
     */
    public void saveSelection(int count, MemorySegment to, long at) {
        s.selection.save(count, to, at);
    }

    /** Restores a choice {@link #saveSelection} saved, before the layers that reuse it run that batch. */
    public void loadSelection(int count, MemorySegment from, long at) {
        s.selection.load(count, from, at);
    }

    /** The rotary angles of positions {@code from..from+count}, unless they are those computed last. */
    private void angles(int from, int count) {
        if (from != anglesFrom || count > anglesCount) {
            for (int t = 0; t < count; t++) {
                rope.angles(from + t, s.ropeAngles[t]);
            }
            anglesFrom = from;
            anglesCount = count;
        }
    }

    /** MLA attention of the batch over the cache, restricted to the indexer's selection; result in {@code s.attnOut}. */
    private void selfAttention(int il, Weights.Layer l, KvCache cache, int cached, int count) {
        k.matmul(l.qA, s.h, s.qLatent, count);                                  // qr
        rmsnorm(s.qLatent, l.qANorm, s.qLatent, count);
        if (c.indexerFull()[il]) {
            lightningIndexer(l, cache.indexerKeys(il), cached, count);          // top_k; shared layers reuse it
        }
        k.matmul(l.qB, s.qLatent, s.q, count);                                  // q
        k.matmul(l.kvAMqa, s.h, s.kvLatent, count);                             // kv_cmpr_pe
        storeKeys(l, cache.latents(il), cached, count);                         // q_pe, k_pe, kv_cmpr; Kcur into the cache
        k.matmuls(l.kB, s.qNope, s.absorbed, count);                            // q_nope_absorbed (attn_k_b per head)
        attention.attend(s.qAbsorbed, s.q, cache.latents(il), cache.capacity(), s.selection, cached, count, s.attnLatent);
        k.matmuls(l.vB, s.latents, s.heads, count);                             // decompress with attn_v_b per head
        k.matmul(l.output, s.attnHeads, s.attnOut, count);                      // wo
    }

    /** Rotates the rope parts of queries and keys, normalizes the latents, and caches latent and rope key as f16. */
    private void storeKeys(Weights.Layer l, MemorySegment latents, int cached, int count) {
        int heads = c.headCount(), kvl = c.kvLoraRank(), qk = c.headKeyLength(), latent = kvl + c.ropeLength();
        for (int t = 0; t < count; t++) {
            int row = t * latent;
            rmsnormRow(s.kvLatent, row, kvl, l.kvANorm, s.kvLatent, row);
            rope.rotate(s.ropeAngles[t], s.kvLatent, row + kvl);
            storeF16(s.kvLatent, row, latents, (long) (cached + t) * latent, latent);
            for (int h = 0; h < heads; h++) {
                rope.rotate(s.ropeAngles[t], s.q, (t * heads + h) * qk + c.ropeFreeLength());
            }
        }
    }

    /**
     * The DSA lightning indexer: rotated, Hadamard-transformed queries and keys, the keys cached as f16, the head
     * weights pre-scaled by 1/sqrt(head length * heads); then every visible key scored and the top-k kept per token
     * in {@code s.selection}. While no token of the batch sees more keys than the top-k, each keeps all it sees
     * whatever their scores, so only the keys are computed (unless the kernels watch every matmul's input).
     */
    private void lightningIndexer(Weights.Layer l, MemorySegment keys, int cached, int count) {
        int ih = c.indexerHeadCount(), id = c.indexerHeadLength();
        k.matmul(l.indexerK, s.h, s.indexerK, count);                           // indexer_k
        for (int t = 0; t < count; t++) {
            layerNorm(s.indexerK, t * id, id, l.indexerKNorm, l.indexerKNormBias);
            rope.rotate(s.ropeAngles[t], s.indexerK, t * id);
            hadamard(s.indexerK, t * id, id);
            storeF16(s.indexerK, t * id, keys, (long) (cached + t) * id, id);
        }
        if (cached + count <= c.indexerTopK() && !k.watchesEveryMatmul()) {
            s.selection.everyVisible(cached, count);                           // top_k of at most k keys: all
            return;
        }
        k.matmul(l.indexerQB, s.qLatent, s.indexerQ, count);                    // indexer_q
        k.matmul(l.indexerProj, s.h, s.indexerWeights, count);                  // indexer_weights
        float weightScale = 1.0f / (float) Math.sqrt((float) (id * ih));
        for (int t = 0; t < count; t++) {
            for (int h = 0; h < ih; h++) {
                int row = (t * ih + h) * id;
                rope.rotate(s.ropeAngles[t], s.indexerQ, row);
                hadamard(s.indexerQ, row, id);
            }
            for (int h = 0; h < ih; h++) {
                s.indexerWeights[t * ih + h] *= weightScale;
            }
        }
        indexer.select(s.indexerQ, s.indexerWeights, keys, cached, count, s.selection);
    }

    /** Sigmoid-routed mixture of experts plus the shared expert, on {@code s.h}; result in {@code s.ffnOut}. */
    private void moe(int il, Weights.Layer l, int count) {
        int used = c.expertUsedCount()[il];
        k.matmul(l.router, s.h, s.routerLogits, count);                         // ffn_gate_inp
        for (int t = 0; t < count; t++) {
            router.route(s.routerLogits, t * c.expertCount(), l.expertBias, used, s.chosenExperts[t], s.chosenWeights[t]);
        }
        if (expertAdvice != null) {
            experts.willNeed(l.expertGate, l.expertUp, l.expertDown, count, s.chosenExperts, used, expertAdvice);
        }
        ffn(il, l.ffn, s.h, s.ffnOut, count);                                   // shared expert
        experts.apply(l.expertGate, l.expertUp, l.expertDown, s.h, count, s.chosenExperts, s.chosenWeights, used, s.ffnOut);
    }

    /** SwiGLU of layer {@code il}'s FFN: {@code out = down(silu(gate(in)) * up(in))} for {@code count} rows. */
    private void ffn(int il, Weights.Ffn f, float[] in, float[] out, int count) {
        if (f.gateUp() != null) {
            k.matmuls(f.gateUp(), s.normed, gateUpRows[il], count);
        } else {
            k.matmul(f.gate(), in, s.ffnGateUp, count);
            k.matmuls(f.upAlone(), s.normed, upRows[il], count);
        }
        k.swiGlu(s.ffnGateUp, count * f.gate().rows(), s.upOffset);
        k.matmul(f.down(), s.ffnGateUp, out, count);
    }

    private void rmsnorm(float[] in, float[] weight, float[] out, int count) {
        for (int t = 0; t < count; t++) {
            rmsnormRow(in, t * weight.length, weight.length, weight, out, t * weight.length);
        }
    }

    /** ggml's rms_norm (sum of squares in double, eps added to the mean) followed by the weight. */
    private void rmsnormRow(float[] in, int inOffset, int n, float[] weight, float[] out, int outOffset) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = in[inOffset + i];
            sum += v * v;
        }
        float scale = 1.0f / (float) Math.sqrt((float) (sum / n) + c.rmsNormEps());
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = in[inOffset + i] * scale * weight[i];
        }
    }

    /** ggml's norm (mean and variance in double) followed by weight and bias, in place. */
    private void layerNorm(float[] x, int offset, int n, float[] weight, float[] bias) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += x[offset + i];
        }
        float mean = (float) (sum / n);
        double variance = 0;
        for (int i = 0; i < n; i++) {
            float d = x[offset + i] - mean;
            x[offset + i] = d;
            variance += d * d;
        }
        float scale = 1.0f / (float) Math.sqrt((float) (variance / n) + c.indexerKeyNormEps());
        for (int i = 0; i < n; i++) {
            x[offset + i] = x[offset + i] * scale * weight[i] + bias[i];
        }
    }

    /** Multiplies {@code x[offset..offset+n)} by the orthonormal Walsh-Hadamard matrix of size n (a power of two). */
    static void hadamard(float[] x, int offset, int n) {
        for (int len = 1; len < n; len <<= 1) {
            for (int i = 0; i < n; i += 2 * len) {
                for (int j = i; j < i + len; j++) {
                    float a = x[offset + j];
                    float b = x[offset + j + len];
                    x[offset + j] = a + b;
                    x[offset + j + len] = a - b;
                }
            }
        }
        float scale = 1.0f / (float) Math.sqrt(n);
        for (int i = 0; i < n; i++) {
            x[offset + i] *= scale;
        }
    }

    private static void add(float[] into, float[] x, int n) {
        for (int i = 0; i < n; i++) {
            into[i] += x[i];
        }
    }

    /** Stores values rounded to f16, as llama.cpp's default cache does, at element {@code at} of {@code cache}. */
    private static void storeF16(float[] src, int srcOffset, MemorySegment cache, long at, int n) {
        for (int i = 0; i < n; i++) {
            cache.set(LittleEndian.SHORT, 2 * (at + i), Float.floatToFloat16(src[srcOffset + i]));
        }
    }
}
