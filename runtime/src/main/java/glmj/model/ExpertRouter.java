package glmj.model;

import glmj.kernel.CMath;
import glmj.kernel.TopK;

import java.util.Arrays;

/**
 * The MoE router as llama.cpp's build_moe_ffn runs it: gate probabilities (sigmoid or softmax of the router logits),
 * the selection bias {@code exp_probs_b} added for choosing only, optional expert groups, the top experts, then their
 * unbiased probabilities, normalized to sum 1 if asked and multiplied by the routed scaling factor.
 */
final class ExpertRouter {
    /** llama.cpp clamps the weight sum to the smallest normal f16 before dividing. */
    private static final float MIN_WEIGHT_SUM = 6.103515625e-5f;

    private final int experts;
    private final boolean sigmoid;
    private final boolean normalize;
    private final float scale;
    private final int groups;
    private final int groupsUsed;
    private final float[] probs;
    private final float[] selection;
    private final float[] groupScores;
    private final int[] groupBest = new int[2];
    private final int[] groupKept;
    private final int[] heap;

    /**
     * @param scale routed scaling factor; 0 or 1 means none
     * @param groups expert groups (0 or 1: no grouping), of which {@code groupsUsed} are kept
     */
    ExpertRouter(int experts, boolean sigmoid, boolean normalize, float scale, int groups, int groupsUsed) {
        this.experts = experts;
        this.sigmoid = sigmoid;
        this.normalize = normalize;
        this.scale = scale;
        this.groups = groups;
        this.groupsUsed = groupsUsed;
        this.probs = new float[experts];
        this.selection = new float[experts];
        this.groupScores = new float[Math.max(1, groups)];
        this.groupKept = new int[Math.max(1, groupsUsed)];
        this.heap = new int[Math.max(experts, groups)];
    }

    static ExpertRouter of(GlmDsaConfig c) {
        return new ExpertRouter(c.expertCount(), c.expertGatingSigmoid(), c.expertWeightsNorm(), c.expertWeightsScale(),
                c.expertGroupCount(), c.expertGroupUsedCount());
    }

    /**
     * Routes one token: {@code logits[offset..offset+experts)} are the router outputs, {@code bias} the selection bias
     * or null. Writes the {@code used} chosen experts, best-ranked first, and their weights.
     */
    void route(float[] logits, int offset, float[] bias, int used, int[] chosen, float[] weights) {
        float max = Float.NEGATIVE_INFINITY;
        for (int x = 0; x < experts; x++) {
            max = Math.max(max, logits[offset + x]);
        }
        float sum = 0;
        for (int x = 0; x < experts; x++) {
            float logit = logits[offset + x];
            probs[x] = sigmoid ? 1.0f / (1.0f + CMath.expf(-logit)) : (float) Math.exp(logit - max);
            sum += probs[x];
        }
        for (int x = 0; x < experts; x++) {
            if (!sigmoid) {
                probs[x] /= sum;
            }
            selection[x] = bias == null ? probs[x] : probs[x] + bias[x];
        }
        keepBestGroups();
        TopK.select(selection, 0, experts, used, chosen, heap);
        sortByRank(chosen, used);
        // ggml_sum_rows adds in double
        double chosenSum = 0;
        for (int i = 0; i < used; i++) {
            chosenSum += probs[chosen[i]];
        }
        for (int i = 0; i < used; i++) {
            float weight = probs[chosen[i]];
            if (normalize) {
                weight /= Math.max((float) chosenSum, MIN_WEIGHT_SUM);
            }
            if (scale != 0f && scale != 1f) {
                weight *= scale;
            }
            weights[i] = weight;
        }
    }

    /** Orders the chosen experts best selection score first, as ggml's descending argsort leaves them. */
    private void sortByRank(int[] chosen, int used) {
        for (int i = 1; i < used; i++) {
            int x = chosen[i], j = i;
            for (; j > 0 && selection[chosen[j - 1]] < selection[x]; j--) {
                chosen[j] = chosen[j - 1];
            }
            chosen[j] = x;
        }
    }

    /** Masks the experts outside the {@code groupsUsed} groups whose two best selection scores sum highest. */
    private void keepBestGroups() {
        if (groups <= 1) {
            return;
        }
        int perGroup = experts / groups;
        for (int g = 0; g < groups; g++) {
            TopK.select(selection, g * perGroup, perGroup, 2, groupBest, heap);
            groupScores[g] = selection[g * perGroup + groupBest[0]] + selection[g * perGroup + groupBest[1]];
        }
        TopK.select(groupScores, 0, groups, groupsUsed, groupKept, heap);
        for (int g = 0; g < groups; g++) {
            boolean kept = false;
            for (int i = 0; i < groupsUsed; i++) {
                kept |= groupKept[i] == g;
            }
            if (!kept) {
                Arrays.fill(selection, g * perGroup, (g + 1) * perGroup, Float.NEGATIVE_INFINITY);
            }
        }
    }
}
