package glmj.model;

import glmj.generate.ContextFullException;
import glmj.gguf.GGUFFile;
import glmj.gguf.TensorInfo;
import glmj.kernel.Halves;
import glmj.kernel.Kernels;
import glmj.kernel.SmallBatchAttention;
import glmj.kernel.TiledAttention;
import glmj.kernel.Weight;
import glmj.tensor.blocks.LittleEndian;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The glm-dsa (GLM-5) forward pass as llama.cpp v0.5.0 computes it: MLA attention in its absorbed form, restricted to
 * the keys chosen by the DSA lightning indexer, then a dense SwiGLU FFN (leading layers) or a sigmoid-routed MoE with
 * a shared expert. A batch of tokens (prefill) and a single token (decode) take the same path.
 *
 * <p>The KV cache keeps per token and layer only the normalized compressed latent (kv_lora) and the rotated rope key,
 * plus the indexer's key for full indexer layers; like llama.cpp's default cache they are stored rounded to f16.
 */
public final class GlmDsa {
    private final GlmDsaConfig c;
    private final Kernels k;
    private final Weights w;
    private final Rope rope;
    private final ExpertRouter router;
    private final int nCtx;
    private final int maxBatch;
    private final State s;
    /** Per group of heads: ggml's small-batch flash attention, where llama.cpp takes it. */
    private final SmallBatchAttention[] smallBatch;
    /** Per group of heads: attention summed in f32 tile by tile, for the other batches. */
    private final TiledAttention[] tiled;
    /** Per part of the cache: a single token's attention summed in f32, every head, over that part's tiles. */
    private final TiledAttention[] split;
    private int cached;

    /**
     * @param nCtx     tokens the context holds, at most the model's context_length
     * @param maxBatch most tokens one {@link #forward} call takes
     */
    public GlmDsa(GGUFFile file, int nCtx, int maxBatch, Kernels kernels) {
        int vocab = Math.toIntExact(file.tensor("token_embd.weight").dim(1));
        this.c = GlmDsaConfig.from(file.metadata(), vocab);
        if (nCtx < 1 || nCtx > c.contextLength()) {
            throw new IllegalArgumentException("n_ctx " + nCtx + " is outside [1, " + c.contextLength() + "] (context_length)");
        }
        this.k = kernels;
        this.w = new Weights(file, c);
        this.rope = new Rope(c.rope());
        this.router = ExpertRouter.of(c);
        this.nCtx = nCtx;
        this.maxBatch = maxBatch;
        this.s = new State(c, nCtx, maxBatch);
        int groups = (c.headCount() + HEADS_PER_GROUP - 1) / HEADS_PER_GROUP;
        this.smallBatch = new SmallBatchAttention[groups];
        this.tiled = new TiledAttention[groups];
        for (int g = 0; g < groups; g++) {
            smallBatch[g] = new SmallBatchAttention(c.kvLoraRank(), c.ropeLength(), HEADS_PER_GROUP);
            tiled[g] = tiledAttention(HEADS_PER_GROUP, maxBatch);
        }
        this.split = new TiledAttention[State.SPLITS];
        for (int p = 0; p < split.length; p++) {
            split[p] = tiledAttention(c.headCount(), 1);
        }
    }

    private TiledAttention tiledAttention(int heads, int tokens) {
        return new TiledAttention(c.kvLoraRank(), c.ropeLength(), c.headCount(), c.headKeyLength(), c.ropeFreeLength(),
                c.attentionScale(), heads, tokens);
    }

    public GlmDsaConfig config() {
        return c;
    }

    /** Tokens in the cache: the position the next token gets. */
    public int position() {
        return cached;
    }

    /** Forgets every cached token from {@code position} on; {@code 0} empties the cache. */
    public void truncate(int position) {
        if (position < 0 || position > cached) {
            throw new IllegalArgumentException("cannot truncate a cache of " + cached + " tokens to " + position);
        }
        cached = position;
    }

    /**
     * Runs {@code count} tokens at the next positions, caching them. With {@code allLogits} writes the logits of every
     * token ({@code count * vocabularySize} floats) into {@code logits}, else only those of the last token.
     *
     * @throws ContextFullException when the tokens do not fit in n_ctx
     */
    public void forward(int[] tokens, int offset, int count, float[] logits, boolean allLogits) {
        forward(tokens, offset, count, logits, allLogits ? 0 : count - 1, null);
    }

    /**
     * {@link #forward(int[], int, int, float[], boolean)} showing {@code probe} (if not null) the residual stream
     * between layers, which it may replace.
     */
    public void forward(int[] tokens, int offset, int count, float[] logits, boolean allLogits, LayerProbe probe) {
        forward(tokens, offset, count, logits, allLogits ? 0 : count - 1, probe);
    }

    /**
     * Runs {@code count} tokens at the next positions, caching them, and writes the logits of the batch's tokens from
     * {@code firstOutput} on ({@code (count - firstOutput) * vocabularySize} floats) into {@code logits}. Past the last
     * layer's attention only those tokens' rows go on, as llama.cpp's graph keeps only the rows a batch wants logits of.
     * {@code probe} (if not null) sees the residual stream between layers, which it may replace.
     *
     * @throws ContextFullException when the tokens do not fit in n_ctx
     */
    public void forward(int[] tokens, int offset, int count, float[] logits, int firstOutput, LayerProbe probe) {
        if (count < 1 || count > maxBatch) {
            throw new IllegalArgumentException("batch of " + count + " tokens, expected 1.." + maxBatch);
        }
        if (firstOutput < 0 || firstOutput >= count) {
            throw new IllegalArgumentException("logits from token " + firstOutput + " of a batch of " + count);
        }
        if (cached + count > nCtx) {
            throw new ContextFullException(cached, count, nCtx);
        }
        int e = c.embeddingLength();
        for (int t = 0; t < count; t++) {
            int token = tokens[offset + t];
            if (token < 0 || token >= c.vocabularySize()) {
                throw new IllegalArgumentException("token id " + token + " at index " + (offset + t) + " is outside the vocabulary of " + c.vocabularySize());
            }
            k.row(w.tokenEmbd, token, s.x, t * e);
        }
        for (int t = 0; t < count; t++) {
            rope.angles(cached + t, s.ropeAngles[t]);
        }
        int rows = count;
        for (int il = 0; il < c.layerCount(); il++) {
            if (probe != null) {
                probe.residual(il, s.x, rows);
            }
            Weights.Layer layer = w.layers[il];
            rmsnorm(s.x, layer.attnNorm, s.h, rows);
            attention(il, layer, rows);
            if (il == c.layerCount() - 1 && firstOutput > 0) {
                // past the last attention only the rows whose logits are wanted go on, as llama.cpp's graph selects them
                rows = count - firstOutput;
                System.arraycopy(s.x, firstOutput * e, s.x, 0, rows * e);
                System.arraycopy(s.attnOut, firstOutput * e, s.attnOut, 0, rows * e);
            }
            add(s.x, s.attnOut, rows * e);
            rmsnorm(s.x, layer.ffnNorm, s.h, rows);
            if (c.isMoe(il)) {
                moe(il, layer, rows);
            } else {
                ffn(layer.ffnGate, layer.ffnUp, layer.ffnDown, s.h, s.ffnOut, rows);
            }
            add(s.x, s.ffnOut, rows * e);
        }
        if (probe != null) {
            probe.residual(c.layerCount(), s.x, rows);
        }
        rmsnorm(s.x, w.outputNorm, s.h, rows);
        k.matmul(w.output, s.h, 0, e, logits, 0, c.vocabularySize(), rows);
        cached += count;
    }

    /** MLA attention of the batch over the cache, restricted to the indexer's selection; result in {@code s.attnOut}. */
    private void attention(int il, Weights.Layer layer, int count) {
        int heads = c.headCount(), kvl = c.kvLoraRank(), rl = c.ropeLength(), nope = c.ropeFreeLength();
        int qk = c.headKeyLength(), latent = kvl + rl;

        k.matmul(layer.qA, s.h, s.qLatent, count);
        rmsnorm(s.qLatent, layer.qANorm, s.qLatent, count);

        if (c.indexerFull()[il]) {
            indexer(il, layer, count);
        }

        k.matmul(layer.qB, s.qLatent, s.q, count);
        k.matmul(layer.kvAMqa, s.h, s.kvLatent, count);
        MemorySegment kvCache = s.kvCache[il];
        for (int t = 0; t < count; t++) {
            int row = t * latent;
            rmsnormRow(s.kvLatent, row, kvl, layer.kvANorm, s.kvLatent, row);
            rope.rotate(s.ropeAngles[t], s.kvLatent, row + kvl);
            storeF16(s.kvLatent, row, kvCache, (long) (cached + t) * latent, latent);
            for (int h = 0; h < heads; h++) {
                rope.rotate(s.ropeAngles[t], s.q, (t * heads + h) * qk + nope);
            }
        }
        // absorb attn_k_b into the query: per head, q_nope (nope) -> kv_lora
        k.matmuls(layer.kB, heads, s.q, 0, qk, heads * qk, s.qAbsorbed, 0, kvl, heads * kvl, count);
        attending.cache = kvCache;
        attending.tokens = count;
        // llama.cpp's CPU flash attention rounds differently below its query tile (see SmallBatchAttention)
        if (SmallBatchAttention.emulates(count, cached + count, nCtx)) {
            k.parallelFor(smallBatch.length, attendGroup);
        } else if (count > 1) {
            k.parallelFor(tiled.length, attendTiled);
        } else {
            // one token: its selected rows split among the tasks, each row converted from f16 once for every head
            attending.tasks = Math.min(split.length, TiledAttention.tiles(cached + 1));
            k.parallelFor(attending.tasks, attendSplit);
            TiledAttention.combine(split, s.splitLatents, attending.tasks, heads, s.attnLatent);
        }
        // decompress with attn_v_b: per head, kv_lora -> value length
        int v = c.headValueLength();
        k.matmuls(layer.vB, heads, s.attnLatent, 0, kvl, heads * kvl, s.attnHeads, 0, v, heads * v, count);
        k.matmul(layer.output, s.attnHeads, s.attnOut, count);
    }

    /**
     * The DSA lightning indexer: scores every visible key with sum over heads of ReLU(q_h . k) * w_h, scaled by
     * 1/sqrt(head length * heads), and keeps the top-k keys per token in {@code s.selected}.
     */
    private void indexer(int il, Weights.Layer layer, int count) {
        int ih = c.indexerHeadCount(), id = c.indexerHeadLength();
        k.matmul(layer.indexerQB, s.qLatent, s.indexerQ, count);
        k.matmul(layer.indexerK, s.h, s.indexerK, count);
        k.matmul(layer.indexerProj, s.h, s.indexerWeights, count);
        MemorySegment keyCache = s.indexerKeyCache[il];
        float weightScale = 1.0f / (float) Math.sqrt((float) (id * ih));
        for (int t = 0; t < count; t++) {
            for (int h = 0; h < ih; h++) {
                int row = (t * ih + h) * id;
                rope.rotate(s.ropeAngles[t], s.indexerQ, row);
                hadamard(s.indexerQ, row, id);
            }
            layerNorm(s.indexerK, t * id, id, layer.indexerKNorm, layer.indexerKNormBias);
            rope.rotate(s.ropeAngles[t], s.indexerK, t * id);
            hadamard(s.indexerK, t * id, id);
            storeF16(s.indexerK, t * id, keyCache, (long) (cached + t) * id, id);
            for (int h = 0; h < ih; h++) {
                s.indexerWeights[t * ih + h] *= weightScale;
            }
        }
        attending.cache = keyCache;
        attending.end = cached + count;
        for (int first = 0; first < count; first += s.indexerScores.length) {
            attending.first = first;
            attending.tokens = Math.min(s.indexerScores.length, count - first);
            int tiles = TiledAttention.tiles(cached + first + attending.tokens);
            attending.tasks = Math.min(s.indexerKeys.length, tiles);
            k.parallelFor(attending.tasks, scoreKeys);
            k.parallelFor(attending.tokens, selectKeys);
        }
    }

    /**
     * Heads a batch attends as one parallel task: they share each cache row's conversion from f16, and the groups
     * stay many enough (16 of GLM-5's 64 heads, 4 of the bench model's 16) to keep every core busy.
     */
    private static final int HEADS_PER_GROUP = 4;

    /**
     * What a parallel step of attention or of the indexer works on: the batch's tokens from {@code first} on, the
     * cache it reads, and (the indexer) how many tasks share the cache's tiles.
     */
    private static final class Attending {
        int first;
        int tokens;
        /** Cache rows the batch's last token sees. */
        int end;
        int tasks;
        MemorySegment cache;
    }

    private final Attending attending = new Attending();
    private final IntConsumer attendGroup = this::attendGroup;
    private final IntConsumer attendTiled = this::attendTiled;
    private final IntConsumer attendSplit = this::attendSplit;
    private final IntConsumer scoreKeys = this::scoreKeys;
    private final IntConsumer selectKeys = this::selectKeys;

    /** Activations a task of {@link #swiGlu} computes: a decode step's experts are one task, a prompt's many. */
    private static final int SWIGLU_CHUNK = 1 << 14;
    private final IntConsumer swiGluChunk = this::swiGluChunk;
    private int swiGluLength;

    /**
     * Attention of heads {@code [g * HEADS_PER_GROUP, ...)} of every token of a small batch over its selected keys,
     * into {@code s.attnLatent}, as llama.cpp's one-chunk flash attention rounds it.
     */
    private void attendGroup(int g) {
        int heads = c.headCount(), kvl = c.kvLoraRank(), qk = c.headKeyLength();
        int first = g * HEADS_PER_GROUP, group = Math.min(HEADS_PER_GROUP, heads - first);
        for (int t = 0; t < attending.tokens; t++) {
            int qRow = (t * heads + first) * kvl;
            smallBatch[g].attend(group, s.qAbsorbed, qRow, kvl, s.q, (t * heads + first) * qk + c.ropeFreeLength(), qk,
                    attending.cache, s.selected[t], s.selectedCount[t], c.attentionScale(), s.attnLatent, qRow);
        }
    }

    /** Attention of heads {@code [g * HEADS_PER_GROUP, ...)} of every token of the batch, summed in f32, into {@code s.attnLatent}. */
    private void attendTiled(int g) {
        int heads = c.headCount(), first = g * HEADS_PER_GROUP;
        tiled[g].attend(attending.tokens, first, Math.min(HEADS_PER_GROUP, heads - first), s.qAbsorbed, s.q,
                attending.cache, s.selectedRows, cached + attending.tokens, s.attnLatent);
    }

    /** Part {@code p} of a single token's attention: the cache tiles {@code [p * tiles / parts, ...)}, every head. */
    private void attendSplit(int p) {
        int tiles = TiledAttention.tiles(cached + 1), parts = attending.tasks;
        split[p].accumulate(1, 0, c.headCount(), s.qAbsorbed, s.q, attending.cache, s.selectedRows, p * tiles / parts,
                (p + 1) * tiles / parts, s.splitLatents[p]);
    }

    /**
     * The indexer's scores of the cache tiles {@code [task * tiles / tasks, ...)} for the tokens in flight, each key
     * converted from f16 once for all of them.
     */
    private void scoreKeys(int task) {
        int ih = c.indexerHeadCount(), id = c.indexerHeadLength(), first = attending.first;
        int end = cached + first + attending.tokens, tiles = TiledAttention.tiles(end), tasks = attending.tasks;
        float[] keys = s.indexerKeys[task];
        for (int tile = task * tiles / tasks; tile < (task + 1) * tiles / tasks; tile++) {
            int from = tile * TiledAttention.TILE, to = Math.min(end, from + TiledAttention.TILE);
            Halves.toFloats(attending.cache, 2L * from * id, keys, 0, (to - from) * id);
            for (int r = 0; r < attending.tokens; r++) {
                int t = first + r;
                float[] score = s.indexerScores[r];
                for (int j = from; j < Math.min(to, cached + t + 1); j++) {
                    float sum = 0;
                    for (int h = 0; h < ih; h++) {
                        // ggml_vec_dot_f32 of the query and the key converted to f32, as ggml's lightning indexer
                        float qk = k.dot(s.indexerQ, (t * ih + h) * id, keys, (j - from) * id, id);
                        // fused, as GCC compiles it (score += MAX(qk, 0) * w)
                        sum = Math.fma(Math.max(qk, 0f), s.indexerWeights[t * ih + h], sum);
                    }
                    score[j] = sum;
                }
            }
        }
    }

    /**
     * The top-k keys of token {@code first + r} in flight: as a list in cache order (the order ggml's small-batch
     * attention visits them) and as bits over the cache rows the batch sees.
     */
    private void selectKeys(int r) {
        int t = attending.first + r, visible = cached + t + 1;
        int[] keys = s.selected[t];
        int n = TopK.select(s.indexerScores[r], 0, visible, c.indexerTopK(), keys, s.topKHeaps[r]);
        long[] rows = s.selectedRows[t];
        Arrays.fill(rows, 0, TiledAttention.tiles(attending.end), 0L);
        for (int i = 0; i < n; i++) {
            rows[keys[i] / TiledAttention.TILE] |= 1L << keys[i];
        }
        int i = 0;
        for (int word = 0; i < n; word++) {
            for (long bits = rows[word]; bits != 0; bits &= bits - 1) {
                keys[i++] = word * TiledAttention.TILE + Long.numberOfTrailingZeros(bits);
            }
        }
        s.selectedCount[t] = n;
    }

    /** Sigmoid-routed mixture of experts plus the shared expert, on {@code s.h}; result in {@code s.ffnOut}. */
    private void moe(int il, Weights.Layer layer, int count) {
        int experts = c.expertCount(), used = c.expertUsedCount()[il];
        k.matmul(layer.router, s.h, s.routerLogits, count);
        for (int t = 0; t < count; t++) {
            router.route(s.routerLogits, t * experts, layer.expertBias, used, s.chosenExperts[t], s.chosenWeights[t]);
        }
        ffn(layer.sharedGate, layer.sharedUp, layer.sharedDown, s.h, s.ffnOut, count);
        routeByExpert(count, used, experts);
        // every expert once, on the tokens routed to it, so its weights are read once per batch; the experts together
        // in steps of up to s.routedRows tokens
        int expert = 0;
        while (expert < experts) {
            int first = s.expertStart[expert], groups = 0;
            for (; expert < experts && s.expertStart[expert + 1] - first <= s.routedRows; expert++) {
                int tokens = s.expertStart[expert + 1] - s.expertStart[expert];
                if (tokens > 0) {
                    s.gates[groups] = layer.expertGate[expert];
                    s.ups[groups] = layer.expertUp[expert];
                    s.downs[groups] = layer.expertDown[expert];
                    s.routedFirst[groups] = s.expertStart[expert] - first;
                    s.routedTokens[groups++] = tokens;
                }
            }
            experts(groups, first, s.expertStart[expert], count);
        }
    }

    /**
     * The tokens' routes sorted by expert, then token: route r of expert x, for r in {@code [s.expertStart[x],
     * s.expertStart[x + 1])}, takes token {@code s.routeToken[r]} with weight {@code s.routeWeight[r]}.
     */
    private void routeByExpert(int count, int used, int experts) {
        Arrays.fill(s.expertStart, 0, experts + 2, 0);
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < used; i++) {
                s.expertStart[s.chosenExperts[t][i] + 2]++;
            }
        }
        for (int x = 2; x <= experts + 1; x++) {
            s.expertStart[x] += s.expertStart[x - 1];
        }
        // s.expertStart[x + 1] now counts the routes before expert x: it moves on past each one placed
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < used; i++) {
                int r = s.expertStart[s.chosenExperts[t][i] + 1]++;
                s.routeToken[r] = t;
                s.routeWeight[r] = s.chosenWeights[t][i];
            }
        }
    }

    /**
     * The {@code groups} experts in {@code s.gates}, {@code s.ups} and {@code s.downs} on routes {@code [from, to)},
     * their results added to their tokens' {@code s.ffnOut} by route weight. A token's experts are added in expert
     * order, however the batch was split, so its result does not depend on the batch.
     */
    private void experts(int groups, int from, int to, int count) {
        int e = c.embeddingLength(), ff = s.gates[0].rows(), routes = to - from;
        float[] in;
        int inputs;
        if (count == 1) {
            // decode: every expert reads the one token as it is
            in = s.h;
            inputs = 1;
            Arrays.fill(s.routedInput, 0, groups, 0);
        } else {
            in = s.routedIn;
            inputs = routes;
            for (int r = from; r < to; r++) {
                System.arraycopy(s.h, s.routeToken[r] * e, in, (r - from) * e, e);
            }
            System.arraycopy(s.routedFirst, 0, s.routedInput, 0, groups);
        }
        if (s.gates[0].type() == s.ups[0].type() && s.ups[0].rows() == ff) {
            System.arraycopy(s.gates, 0, s.gatesAndUps, 0, groups);
            System.arraycopy(s.ups, 0, s.gatesAndUps, groups, groups);
            System.arraycopy(s.routedInput, 0, s.routedInput, groups, groups);
            System.arraycopy(s.routedTokens, 0, s.routedTokens, groups, groups);
            for (int g = 0; g < groups; g++) {
                s.routedOutput[g] = s.routedFirst[g];
                s.routedOutput[groups + g] = routes + s.routedFirst[g];
            }
            k.raggedMatmuls(s.gatesAndUps, 2 * groups, in, inputs, s.routedInput, s.routedTokens, s.ffnGateUp, s.routedOutput);
        } else {
            System.arraycopy(s.routedFirst, 0, s.routedOutput, 0, groups);
            k.raggedMatmuls(s.gates, groups, in, inputs, s.routedInput, s.routedTokens, s.ffnGateUp, s.routedOutput);
            for (int g = 0; g < groups; g++) {
                s.routedOutput[g] = routes + s.routedFirst[g];
            }
            k.raggedMatmuls(s.ups, groups, in, inputs, s.routedInput, s.routedTokens, s.ffnGateUp, s.routedOutput);
        }
        swiGlu(routes * ff);
        k.raggedMatmuls(s.downs, groups, s.ffnGateUp, routes, s.routedFirst, s.routedTokens, s.routedOut, s.routedFirst);
        for (int r = from; r < to; r++) {
            k.axpy(s.routeWeight[r], s.routedOut, (r - from) * e, s.ffnOut, s.routeToken[r] * e, e);
        }
    }

    /** SwiGLU: {@code out = down(silu(gate(in)) * up(in))} for {@code count} rows. */
    private void ffn(Weight gate, Weight up, Weight down, float[] in, float[] out, int count) {
        int ff = gate.rows(), cols = gate.cols();
        if (gate.type() == up.type() && up.rows() == ff) {
            s.gatesAndUps[0] = gate;
            s.gatesAndUps[1] = up;
            k.matmuls(s.gatesAndUps, 2, in, 0, 0, cols, s.ffnGateUp, 0, count * ff, ff, count);
        } else {
            k.matmul(gate, in, 0, cols, s.ffnGateUp, 0, ff, count);
            k.matmul(up, in, 0, cols, s.ffnGateUp, count * ff, ff, count);
        }
        swiGlu(count * ff);
        k.matmul(down, s.ffnGateUp, out, count);
    }

    /**
     * {@code silu(gate) * up} over the first {@code n} gate projections in {@code s.ffnGateUp}, the up projections after
     * them; in parallel chunks, as a prompt's experts give it hundreds of thousands of exponentials per layer.
     */
    private void swiGlu(int n) {
        swiGluLength = n;
        k.parallelFor((n + SWIGLU_CHUNK - 1) / SWIGLU_CHUNK, swiGluChunk);
    }

    private void swiGluChunk(int chunk) {
        float[] a = s.ffnGateUp;
        int n = swiGluLength;
        for (int i = chunk * SWIGLU_CHUNK, end = Math.min(n, i + SWIGLU_CHUNK); i < end; i++) {
            float g = a[i];
            a[i] = g / (1.0f + (float) Math.exp(-g)) * a[n + i];
        }
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
