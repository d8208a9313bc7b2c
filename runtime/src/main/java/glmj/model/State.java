package glmj.model;

import glmj.kernel.Rows;
import glmj.kernel.Selection;

/** The activations of a forward pass, sized once from the config, the largest context and the largest batch. */
final class State {
    final float[] x, h, attnOut, ffnOut;
    final float[][] ropeAngles;
    final float[] qLatent, q, kvLatent, qAbsorbed, attnLatent, attnHeads;
    final float[] indexerQ, indexerK, indexerWeights;
    /** The keys each token attends: written by a full indexer layer, read by it and the layers that reuse it. */
    final Selection selection;
    final float[] routerLogits;
    final int[][] chosenExperts;
    final float[][] chosenWeights;
    /** A dense FFN's gate projections, then from {@link #upOffset} its up projections. */
    final float[] ffnGateUp;
    final int upOffset;
    /** The heads of attn_k_b and attn_v_b: the queries' nope parts, the absorbed queries, the latents, the heads' values. */
    final Rows qNope, absorbed, latents, heads;
    /** The normed rows {@code h}, as one input shared by several matmuls (an FFN's gate and up). */
    final Rows normed;

    State(GlmDsaConfig c, int nCtx, int batch) {
        int e = c.embeddingLength(), n = c.headCount(), kvl = c.kvLoraRank(), qk = c.headKeyLength(), v = c.headValueLength();
        x = new float[batch * e];
        h = new float[batch * e];
        attnOut = new float[batch * e];
        ffnOut = new float[batch * e];
        ropeAngles = new float[batch][c.ropeLength()];
        qLatent = new float[batch * c.qLoraRank()];
        q = new float[batch * n * qk];
        kvLatent = new float[batch * (kvl + c.ropeLength())];
        qAbsorbed = new float[batch * n * kvl];
        attnLatent = new float[batch * n * kvl];
        attnHeads = new float[batch * n * v];
        int ih = c.indexerHeadCount(), id = c.indexerHeadLength();
        indexerQ = new float[batch * ih * id];
        indexerK = new float[batch * id];
        indexerWeights = new float[batch * ih];
        selection = new Selection(batch, c.indexerTopK(), nCtx);
        routerLogits = new float[batch * c.expertCount()];
        int maxUsed = 0, maxFf = 0;
        for (int il = 0; il < c.layerCount(); il++) {
            maxUsed = Math.max(maxUsed, c.expertUsedCount()[il]);
            maxFf = Math.max(maxFf, c.isMoe(il) ? c.expertFeedForwardLength()[il] * Math.max(1, c.sharedExpertCount()) : c.feedForwardLength()[il]);
        }
        chosenExperts = new int[batch][maxUsed];
        chosenWeights = new float[batch][maxUsed];
        upOffset = batch * maxFf;
        ffnGateUp = new float[2 * upOffset];
        normed = new Rows(h, 0, 0, e);
        qNope = new Rows(q, 0, qk, n * qk);
        absorbed = new Rows(qAbsorbed, 0, kvl, n * kvl);
        latents = new Rows(attnLatent, 0, kvl, n * kvl);
        heads = new Rows(attnHeads, 0, v, n * v);
    }
}
