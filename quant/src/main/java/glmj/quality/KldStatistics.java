package glmj.quality;

import java.util.Arrays;

/**
 * The sums and values llama-perplexity's {@code kl_divergence()} gathers over the scored positions (its
 * {@code kl_divergence_result}, {@code kld_values} and {@code p_diff_values}), in its float and double types, and the
 * statistics it prints from them ({@link #summary()}).
 */
public final class KldStatistics {
    private double sumNll;
    private double sumNll2;
    private double sumNllBase;
    private double sumNllBase2;
    private double sumNllNllBase;
    private double sumKld;
    private double sumKld2;
    private double sumPDiff;
    private double sumPDiff2;
    private double sumPDiff4;
    private long sameTop;
    private int count;
    private float[] kldValues = new float[1024];
    private float[] pDiffValues = new float[1024];

    /** Adds rows {@code [0, rows)} of {@code scores}, in order. */
    void add(TokenScores scores, int rows) {
        for (int i = 0; i < rows; i++) {
            add(scores.nll[i], scores.nllBase[i], scores.kld[i], scores.pDiff[i], scores.sameTop[i]);
        }
    }

    /** Adds one scored position. */
    void add(float nll, float nllBase, double kld, float pDiff, boolean sameTopToken) {
        sumNll += nll;
        sumNll2 += nll * nll;
        sumNllBase += nllBase;
        sumNllBase2 += nllBase * nllBase;
        sumNllNllBase += nll * nllBase;
        sumKld += kld;
        sumKld2 += kld * kld;
        sumPDiff += pDiff;
        double pDiff2 = pDiff * pDiff;
        sumPDiff2 += pDiff2;
        sumPDiff4 += pDiff2 * pDiff2;
        if (sameTopToken) {
            sameTop++;
        }
        if (count == kldValues.length) {
            kldValues = Arrays.copyOf(kldValues, 2 * count);
            pDiffValues = Arrays.copyOf(pDiffValues, 2 * count);
        }
        kldValues[count] = (float) kld;
        pDiffValues[count] = pDiff;
        count++;
    }

    /** Scored positions so far. */
    public int count() {
        return count;
    }

    /** Perplexity of the model so far, as llama-perplexity prints it after each chunk. */
    public double perplexity() {
        return Math.exp(meanAndUncertainty(sumNll, sumNll2).value());
    }

    /** Mean KL divergence so far. */
    public double meanKld() {
        return meanAndUncertainty(sumKld, sumKld2).value();
    }

    /** Everything llama-perplexity prints at the end of a {@code --kl-divergence} run. */
    public KldSummary summary() {
        if (count == 0) {
            throw new IllegalStateException("no scored positions");
        }
        Estimate logPpl = meanAndUncertainty(sumNll, sumNll2);
        Estimate logPplBase = meanAndUncertainty(sumNllBase, sumNllBase2);
        double ppl = Math.exp(logPpl.value());
        double pplBase = Math.exp(logPplBase.value());
        double logPplCovariance = covariance(sumNll, sumNllBase, sumNllNllBase);
        double correlation = logPplCovariance / (logPpl.uncertainty() * logPplBase.uncertainty());
        double lnRatio = logPpl.value() - logPplBase.value();
        double lnRatioUncertainty = Math.sqrt(logPpl.uncertainty() * logPpl.uncertainty()
                + logPplBase.uncertainty() * logPplBase.uncertainty() - 2.0 * logPplCovariance);
        double ratio = Math.exp(lnRatio);
        double pplUncertainty = ppl * logPpl.uncertainty();
        double pplBaseUncertainty = pplBase * logPplBase.uncertainty();
        double pplCovariance = ppl * pplBase * logPplCovariance;
        Estimate pDiffMse = meanAndUncertainty(sumPDiff2, sumPDiff4);
        double pDiffRms = Math.sqrt(pDiffMse.value());
        double sameTopRate = 1.0 * sameTop / count;
        float[] kld = Arrays.copyOf(kldValues, count);
        float[] pDiff = Arrays.copyOf(pDiffValues, count);
        Arrays.sort(kld);
        Arrays.sort(pDiff);
        return new KldSummary(
                count,
                new Estimate(ppl, pplUncertainty),
                new Estimate(pplBase, pplBaseUncertainty),
                correlation,
                new Estimate(lnRatio, lnRatioUncertainty),
                new Estimate(ratio, ratio * lnRatioUncertainty),
                new Estimate(ppl - pplBase, Math.sqrt(pplUncertainty * pplUncertainty
                        + pplBaseUncertainty * pplBaseUncertainty - 2.0 * pplCovariance)),
                meanAndUncertainty(sumKld, sumKld2),
                Percentiles.of(kld),
                meanAndUncertainty(sumPDiff, sumPDiff2),
                Percentiles.of(pDiff),
                new Estimate(pDiffRms, 0.5 / pDiffRms * pDiffMse.uncertainty()),
                new Estimate(sameTopRate, Math.sqrt(sameTopRate * (1.0 - sameTopRate) / (count - 1))));
    }

    /** llama-perplexity's {@code mean_and_uncertainty}: the mean and its standard error, 0 for 10 values or fewer. */
    private Estimate meanAndUncertainty(double sum, double sum2) {
        if (count < 1) {
            return new Estimate(0, 0);
        }
        double mean = sum / count;
        double variance = sum2 / count - mean * mean;
        return new Estimate(mean, variance > 0 && count > 10 ? Math.sqrt(variance / (count - 1)) : 0);
    }

    /** llama-perplexity's {@code covariance} of the two means; 0 under 10 values. */
    private double covariance(double sumA, double sumB, double sumAB) {
        if (count < 10) {
            return 0;
        }
        return (sumAB / count - (sumA / count) * (sumB / count)) / (count - 1);
    }

    /** A value and its standard uncertainty. */
    public record Estimate(double value, double uncertainty) {
    }

    /**
     * The order statistics llama-perplexity prints, computed as it computes them: linear interpolation between the two
     * nearest sorted values at {@code fraction * (n - 1)}, in float; the median as the mean of the middle two.
     */
    public record Percentiles(float max, float p99_9, float p99, float p95, float p90, float p75, float median,
                              float p25, float p10, float p5, float p1, float p0_1, float min) {
        static Percentiles of(float[] sorted) {
            int n = sorted.length;
            float median = n % 2 == 0 ? 0.5f * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
            return new Percentiles(sorted[n - 1], at(sorted, 0.999f), at(sorted, 0.990f), at(sorted, 0.950f),
                    at(sorted, 0.900f), at(sorted, 0.750f), median, at(sorted, 0.250f), at(sorted, 0.100f),
                    at(sorted, 0.050f), at(sorted, 0.010f), at(sorted, 0.001f), sorted[0]);
        }

        /** llama-perplexity's {@code percentile} lambda. */
        static float at(float[] sorted, float fraction) {
            if (fraction <= 0) {
                return sorted[0];
            }
            if (fraction >= 1) {
                return sorted[sorted.length - 1];
            }
            float p = fraction * (sorted.length - 1);
            int ip = (int) p;
            p -= ip;
            return (1 - p) * sorted[ip] + p * sorted[Math.min(ip + 1, sorted.length - 1)];
        }
    }
}
