package glmj.model;

import glmj.generate.CacheTooLargeException;
import glmj.kernel.TiledAttention;
import glmj.kernel.Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Every buffer a forward pass uses, sized once from the config, the context and the largest batch. */
final class State {
    /**
     * Tokens whose indexer scores are computed together, sharing each key's conversion from f16; their score rows
     * take {@code 2 * 4 * n_ctx} bytes each (scores and top-k heap), 25 MB at GLM-5's whole context.
     */
    private static final int SCORED_TOKENS = 16;
    /** Parallel tasks sharing the indexer's scan of the cache: enough to keep the cores of a large machine busy. */
    private static final int SCORING_TASKS = 32;
    /** Parts a single token's attention is split into, for as many tasks. */
    static final int SPLITS = 8;

    final float[] x, h, attnOut, ffnOut;
    final float[][] ropeAngles;
    final float[] qLatent, q, kvLatent, qAbsorbed, attnLatent, attnHeads;
    final float[] indexerQ, indexerK, indexerWeights;
    /** The indexer's scores of the tokens being selected for, a row each: a batch is scored this many at a time. */
    final float[][] indexerScores;
    /** Indexer keys converted from f16, one tile per parallel scoring task: the most tasks sharing the cache. */
    final float[][] indexerKeys;
    /** Each token's selected cache rows: in cache order, how many, and as bits ({@link glmj.kernel.TiledAttention}). */
    final int[][] selected;
    final int[] selectedCount;
    final long[][] selectedRows;
    /** A single token's attention latents per part of the cache, before they are combined. */
    final float[][] splitLatents;
    final int[][] topKHeaps;
    final float[] routerLogits;
    final int[][] chosenExperts;
    final float[][] chosenWeights;
    /**
     * Each token's routes to its experts, sorted by expert: where each expert's begin, and their tokens; and the route
     * of each token's i-th ranked expert.
     */
    final int[] expertStart, routeToken, choiceRoute;
    /** Most routes one step of experts takes: the batch, or a decode step's experts. */
    final int routedRows;
    /** A step of experts' input rows, a row per route; the results of all the batch's routes, a row per route. */
    final float[] routedIn, routedOut;
    /** A step of experts: each one's first route and routes; where its gate and up projections read and write. */
    final int[] routedFirst, routedTokens, routedInput, routedOutput;
    /** SwiGLU buffers: the gate projections of every FFN in a step, then their up projections. */
    final float[] ffnGateUp;
    /** The FFNs of a step of experts; and gates then ups, for one matmul step. */
    final Weight[] gates, ups, downs, gatesAndUps;
    /** Per layer and token, as f16 off the heap: the normalized kv latent then the rotated rope key. */
    final MemorySegment[] kvCache;
    /** Per full-indexer layer and token, as f16 off the heap: the indexer key; null for layers that reuse a selection. */
    final MemorySegment[] indexerKeyCache;

    State(GlmDsaConfig c, int nCtx, int batch) {
        int e = c.embeddingLength(), heads = c.headCount();
        x = new float[batch * e];
        h = new float[batch * e];
        attnOut = new float[batch * e];
        ffnOut = new float[batch * e];
        ropeAngles = new float[batch][c.ropeLength()];
        qLatent = new float[batch * c.qLoraRank()];
        q = new float[batch * heads * c.headKeyLength()];
        kvLatent = new float[batch * (c.kvLoraRank() + c.ropeLength())];
        qAbsorbed = new float[batch * heads * c.kvLoraRank()];
        attnLatent = new float[batch * heads * c.kvLoraRank()];
        attnHeads = new float[batch * heads * c.headValueLength()];
        int ih = c.indexerHeadCount(), id = c.indexerHeadLength();
        indexerQ = new float[batch * ih * id];
        indexerK = new float[batch * id];
        indexerWeights = new float[batch * ih];
        int scored = Math.min(batch, SCORED_TOKENS);
        indexerScores = new float[scored][nCtx];
        topKHeaps = new int[scored][nCtx];
        indexerKeys = new float[SCORING_TASKS][TiledAttention.TILE * id];
        selected = new int[batch][c.indexerTopK()];
        selectedCount = new int[batch];
        splitLatents = new float[SPLITS][heads * c.kvLoraRank()];
        selectedRows = new long[batch][TiledAttention.tiles(nCtx)];
        int experts = c.expertCount();
        routerLogits = new float[batch * experts];
        int maxUsed = 0, maxFf = 0;
        for (int il = 0; il < c.layerCount(); il++) {
            maxUsed = Math.max(maxUsed, c.expertUsedCount()[il]);
            maxFf = Math.max(maxFf, c.isMoe(il)
                    ? c.expertFeedForwardLength()[il] * Math.max(1, c.sharedExpertCount())
                    : c.feedForwardLength()[il]);
        }
        chosenExperts = new int[batch][maxUsed];
        chosenWeights = new float[batch][maxUsed];
        expertStart = new int[experts + 2];
        routeToken = new int[batch * maxUsed];
        choiceRoute = new int[batch * maxUsed];
        routedRows = Math.max(batch, maxUsed);
        routedIn = new float[routedRows * e];
        routedOut = new float[batch * maxUsed * e];
        routedFirst = new int[experts];
        routedTokens = new int[2 * experts];
        routedInput = new int[2 * experts];
        routedOutput = new int[2 * experts];
        ffnGateUp = new float[2 * routedRows * maxFf];
        gates = new Weight[experts];
        ups = new Weight[experts];
        downs = new Weight[experts];
        gatesAndUps = new Weight[Math.max(2, 2 * experts)];
        int latent = c.kvLoraRank() + c.ropeLength();
        // off the heap, so the heap stays small whatever the context; freed with this state
        Arena arena = Arena.ofAuto();
        kvCache = new MemorySegment[c.layerCount()];
        indexerKeyCache = new MemorySegment[c.layerCount()];
        long bytes = 0;
        for (int il = 0; il < c.layerCount(); il++) {
            bytes += 2L * nCtx * (latent + (c.indexerFull()[il] ? id : 0));
        }
        try {
            for (int il = 0; il < c.layerCount(); il++) {
                kvCache[il] = arena.allocate(2L * nCtx * latent, 64);
                if (c.indexerFull()[il]) {
                    indexerKeyCache[il] = arena.allocate(2L * nCtx * id, 64);
                }
            }
        } catch (OutOfMemoryError notReserved) {
            throw new CacheTooLargeException(nCtx, bytes);
        }
    }
}
