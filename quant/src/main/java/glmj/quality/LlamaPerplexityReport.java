package glmj.quality;

import glmj.quality.KldStatistics.Percentiles;

import java.util.Locale;

/** A {@link KldSummary} in the three blocks llama-perplexity prints at the end of a {@code --kl-divergence} run. */
public final class LlamaPerplexityReport {
    private LlamaPerplexityReport() {
    }

    /** The blocks, line for line and number format for number format as llama-perplexity prints them. */
    public static String of(KldSummary s) {
        StringBuilder out = new StringBuilder();
        line(out, "====== Perplexity statistics ======");
        line(out, "Mean PPL(Q)                   : %10.6f ± %10.6f", s.ppl().value(), s.ppl().uncertainty());
        line(out, "Mean PPL(base)                : %10.6f ± %10.6f", s.pplBase().value(), s.pplBase().uncertainty());
        line(out, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%", 100.0 * s.lnPplCorrelation());
        line(out, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f", s.lnPplRatio().value(), s.lnPplRatio().uncertainty());
        line(out, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f", s.pplRatio().value(), s.pplRatio().uncertainty());
        line(out, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f", s.pplDifference().value(), s.pplDifference().uncertainty());
        line(out, "");
        line(out, "====== KL divergence statistics ======");
        line(out, "Mean    KLD: %10.6f ± %10.6f", s.kld().value(), s.kld().uncertainty());
        Percentiles k = s.kldPercentiles();
        line(out, "Maximum KLD: %10.6f", k.max());
        line(out, "99.9%%   KLD: %10.6f", k.p99_9());
        line(out, "99.0%%   KLD: %10.6f", k.p99());
        line(out, "95.0%%   KLD: %10.6f", k.p95());
        line(out, "90.0%%   KLD: %10.6f", k.p90());
        line(out, "Median  KLD: %10.6f", k.median());
        line(out, "10.0%%   KLD: %10.6f", k.p10());
        line(out, " 5.0%%   KLD: %10.6f", k.p5());
        line(out, " 1.0%%   KLD: %10.6f", k.p1());
        line(out, " 0.1%%   KLD: %10.6f", k.p0_1());
        line(out, "Minimum KLD: %10.6f", k.min());
        line(out, "");
        line(out, "====== Token probability statistics ======");
        line(out, "Mean    Δp: %6.3f ± %5.3f %%", 100.0 * s.probabilityDelta().value(), 100.0 * s.probabilityDelta().uncertainty());
        Percentiles p = s.probabilityDeltaPercentiles();
        line(out, "Maximum Δp: %6.3f%%", 100.0 * p.max());
        line(out, "99.9%%   Δp: %6.3f%%", 100.0 * p.p99_9());
        line(out, "99.0%%   Δp: %6.3f%%", 100.0 * p.p99());
        line(out, "95.0%%   Δp: %6.3f%%", 100.0 * p.p95());
        line(out, "90.0%%   Δp: %6.3f%%", 100.0 * p.p90());
        line(out, "75.0%%   Δp: %6.3f%%", 100.0 * p.p75());
        line(out, "Median  Δp: %6.3f%%", 100.0 * p.median());
        line(out, "25.0%%   Δp: %6.3f%%", 100.0 * p.p25());
        line(out, "10.0%%   Δp: %6.3f%%", 100.0 * p.p10());
        line(out, " 5.0%%   Δp: %6.3f%%", 100.0 * p.p5());
        line(out, " 1.0%%   Δp: %6.3f%%", 100.0 * p.p1());
        line(out, " 0.1%%   Δp: %6.3f%%", 100.0 * p.p0_1());
        line(out, "Minimum Δp: %6.3f%%", 100.0 * p.min());
        line(out, "RMS Δp    : %6.3f ± %5.3f %%", 100.0 * s.probabilityDeltaRms().value(), 100.0 * s.probabilityDeltaRms().uncertainty());
        line(out, "Same top p: %6.3f ± %5.3f %%", 100.0 * s.sameTop().value(), 100.0 * s.sameTop().uncertainty());
        return out.toString();
    }

    private static void line(StringBuilder out, String format, Object... values) {
        out.append(String.format(Locale.ROOT, format, values)).append('\n');
    }
}
