package glmj.quality;

import glmj.quality.KldStatistics.Estimate;
import glmj.quality.KldStatistics.Percentiles;

/**
 * What llama-perplexity prints at the end of a {@code --kl-divergence} run, for a model against a base: perplexities
 * (of the model and, from the stored log-probabilities, of the base), the correlation of their per-token
 * log-likelihoods, ln(PPL(Q)/PPL(base)), the ratio and difference of the perplexities, the KL divergence per token, the
 * probability delta (llama.cpp's delta-p: the model's probability of the right next token less the base's), and how
 * often both put the same token on top.
 */
public record KldSummary(
        int tokens,
        Estimate ppl,
        Estimate pplBase,
        double lnPplCorrelation,
        Estimate lnPplRatio,
        Estimate pplRatio,
        Estimate pplDifference,
        Estimate kld,
        Percentiles kldPercentiles,
        Estimate probabilityDelta,
        Percentiles probabilityDeltaPercentiles,
        Estimate probabilityDeltaRms,
        Estimate sameTop) {

    /** llama-perplexity prints no statistics for fewer scored tokens than this. */
    public static final int LLAMA_MINIMUM_TOKENS = 100;
}
