package glmj.quality;

import glmj.quality.KldStatistics.Estimate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The limits a comparison must keep, for CI: a largest mean KL divergence, a largest PPL(Q)/PPL(base), a smallest
 * rate of the same top token (each null when not set), and a baseline, an earlier comparison on the same base whose
 * models (matched by file name) may not be beaten in mean KLD, ln(PPL(Q)/PPL(base)), same-top rate or RMS delta-p
 * by more than the two measurements' combined standard uncertainty.
 */
public record QualityGates(Double maxKld, Double maxPplRatio, Double minSameTop, List<ModelQuality> baseline) {

    public QualityGates {
        baseline = baseline == null ? List.of() : List.copyOf(baseline);
    }

    /** One line per broken limit, naming the model, the measurement and the limit. */
    public List<String> failures(List<ModelQuality> models) {
        Map<String, ModelQuality> before = baseline.stream()
                .collect(Collectors.toMap(ModelQuality::name, Function.identity(), (a, b) -> b));
        List<String> failures = new ArrayList<>();
        for (ModelQuality model : models) {
            KldSummary s = model.statistics();
            if (maxKld != null && s.kld().value() > maxKld) {
                failures.add(line("%s: mean KLD %.6f > --max-kld %s", model.name(), s.kld().value(), maxKld));
            }
            if (maxPplRatio != null && s.pplRatio().value() > maxPplRatio) {
                failures.add(line("%s: PPL(Q)/PPL(base) %.6f > --max-ppl-ratio %s", model.name(), s.pplRatio().value(), maxPplRatio));
            }
            if (minSameTop != null && s.sameTop().value() < minSameTop) {
                failures.add(line("%s: same top token %.4f < --min-top1 %s", model.name(), s.sameTop().value(), minSameTop));
            }
            ModelQuality old = before.get(model.name());
            if (old != null) {
                KldSummary o = old.statistics();
                worse(failures, model.name(), "mean KLD", s.kld(), o.kld(), true);
                worse(failures, model.name(), "ln(PPL(Q)/PPL(base))", s.lnPplRatio(), o.lnPplRatio(), true);
                worse(failures, model.name(), "same top token", s.sameTop(), o.sameTop(), false);
                worse(failures, model.name(), "RMS delta-p", s.probabilityDeltaRms(), o.probabilityDeltaRms(), true);
            }
        }
        return failures;
    }

    /** Models of {@code models} the baseline does not have. */
    public List<String> notInBaseline(List<ModelQuality> models) {
        List<String> names = baseline.stream().map(ModelQuality::name).toList();
        return models.stream().map(ModelQuality::name).filter(name -> !names.contains(name)).toList();
    }

    private static void worse(List<String> failures, String model, String what, Estimate now, Estimate before,
                              boolean higherIsWorse) {
        double change = higherIsWorse ? now.value() - before.value() : before.value() - now.value();
        double uncertainty = Math.hypot(now.uncertainty(), before.uncertainty());
        if (change > uncertainty) {
            failures.add(line("%s: %s %.6f ± %.6f is worse than the baseline's %.6f ± %.6f", model, what, now.value(),
                    now.uncertainty(), before.value(), before.uncertainty()));
        }
    }

    private static String line(String format, Object... values) {
        return String.format(Locale.ROOT, format, values);
    }
}
