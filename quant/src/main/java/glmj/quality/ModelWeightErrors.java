package glmj.quality;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The weight errors of one model against the reference: per tensor, and aggregated over all values of a kind, of a
 * layer, of a kind within a layer, and of the whole model (aggregates weigh every value alike: their relative RMS error
 * is that of all their values together).
 *
 * @param model      the model file (its first shard)
 * @param modelBytes bytes of the model's tensors
 * @param bytesRead  bytes read from the models and the reference by the pass that measured this model (with others,
 *                   the reference once for all)
 * @param seconds    that pass's wall time
 * @param skipped    reference tensors the model lacks (whole MTP layers)
 */
public record ModelWeightErrors(Path model, long modelBytes, long bytesRead, double seconds, List<TensorError> tensors,
        List<String> skipped) {

    /** One tensor's error; {@code layer} is -1 outside the blocks. */
    public record TensorError(String name, String type, TensorKind kind, int layer, WeightError error) {
    }

    public ModelWeightErrors {
        tensors = List.copyOf(tensors);
        skipped = List.copyOf(skipped);
    }

    /** Bytes per second read by the pass, from the models and the reference together. */
    public double bytesPerSecond() {
        return seconds > 0 ? bytesRead / seconds : Double.NaN;
    }

    /** Weights of the model, and their bits on average. */
    public double bitsPerWeight() {
        long weights = tensors.stream().mapToLong(t -> t.error().count()).sum();
        return weights == 0 ? Double.NaN : 8.0 * modelBytes / weights;
    }

    public WeightError total() {
        WeightError total = new WeightError();
        tensors.forEach(t -> total.merge(t.error()));
        return total;
    }

    /** Per kind, in {@link TensorKind} order; kinds without tensors are left out. */
    public Map<TensorKind, WeightError> byKind() {
        Map<TensorKind, WeightError> out = new EnumMap<>(TensorKind.class);
        tensors.forEach(t -> out.computeIfAbsent(t.kind(), k -> new WeightError()).merge(t.error()));
        return out;
    }

    /** Per layer (-1: the tensors outside the blocks), in layer order. */
    public Map<Integer, WeightError> byLayer() {
        Map<Integer, WeightError> out = new TreeMap<>();
        tensors.forEach(t -> out.computeIfAbsent(t.layer(), l -> new WeightError()).merge(t.error()));
        return out;
    }

    /** Per layer and, within it, per kind. */
    public Map<Integer, Map<TensorKind, WeightError>> byLayerAndKind() {
        Map<Integer, Map<TensorKind, WeightError>> out = new TreeMap<>();
        tensors.forEach(t -> out.computeIfAbsent(t.layer(), l -> new EnumMap<>(TensorKind.class))
                .computeIfAbsent(t.kind(), k -> new WeightError()).merge(t.error()));
        return out;
    }
}
