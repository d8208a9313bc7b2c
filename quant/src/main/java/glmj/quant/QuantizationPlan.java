package glmj.quant;

import glmj.quant.imatrix.ImportanceMatrix;
import glmj.tensor.GGMLType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The type every tensor of a model is written as: for a tensor llama-quantize quantizes, the first matching rule's
 * type of a {@link Recipe}, falling back as llama-quantize does when its rows are not whole blocks of it; for any other
 * tensor its {@link SourceTensor#unquantizedType}. Known before any weight is read, with the file's size.
 */
public final class QuantizationPlan {

    /**
     * One tensor's decision: {@code type}, from {@code rule} (null for a tensor llama-quantize does not quantize), whose
     * type was {@code requested} before the fallback.
     */
    public record Entry(SourceTensor tensor, GGMLType type, Recipe.Rule rule, GGMLType requested) {
        public String name() {
            return tensor.name();
        }

        /** Bytes of its data in the file. */
        public long bytes() {
            return type.byteSize(tensor.elementCount());
        }

        /** Whether a recipe rule decided its type. */
        public boolean quantized() {
            return rule != null;
        }

        /** Whether its rows forced another type than its rule's. */
        public boolean fellBack() {
            return rule != null && type != requested;
        }

        /** Its block, -1 outside the blocks. */
        public int layer() {
            return LayerLayout.layerOf(tensor.name());
        }
    }

    private final Recipe recipe;
    private final LayerLayout layout;
    private final List<Entry> entries;

    private QuantizationPlan(Recipe recipe, LayerLayout layout, List<Entry> entries) {
        this.recipe = recipe;
        this.layout = layout;
        this.entries = List.copyOf(entries);
    }

    /**
     * The plan of {@code recipe} for {@code tensors}, a model laid out as {@code layout}.
     *
     * @throws QuantizeException when no rule matches a tensor, or a tensor's stored type cannot be read to requantize it
     */
    public static QuantizationPlan of(Recipe recipe, List<? extends SourceTensor> tensors, LayerLayout layout) {
        List<Entry> entries = new ArrayList<>();
        for (SourceTensor t : tensors) {
            if (!QuantizeRules.allowsQuantization(t.name(), t.shape())) {
                entries.add(new Entry(t, t.unquantizedType(), null, t.unquantizedType()));
                continue;
            }
            Recipe.Rule rule = recipe.ruleFor(t.name(), layout).orElseThrow(() -> new QuantizeException(recipe.origin()
                    + " has no rule for tensor " + t.name() + ": end the recipe with a rule for every other tensor ('* q8_0')"));
            entries.add(entry(t, rule, rule.type()));
        }
        return new QuantizationPlan(recipe, layout, entries);
    }

    private static Entry entry(SourceTensor t, Recipe.Rule rule, GGMLType requested) {
        GGMLType type = QuantizeRules.fallback(requested, t.rowLength());
        if (type != t.storedType() && t.storedType() != null && !t.storedType().isReadable()) {
            throw new QuantizeException("tensor " + t.name() + " is " + t.storedType().ggmlName
                    + ", which glmj cannot read to requantize as " + type.ggmlName);
        }
        return new Entry(t, type, rule, requested);
    }

    /** This plan with the quantized tensors named in {@code types} given those types instead (falling back alike). */
    public QuantizationPlan withTypes(Map<String, GGMLType> types) {
        List<Entry> changed = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            GGMLType type = types.get(e.name());
            changed.add(type == null || !e.quantized() ? e : entry(e.tensor(), e.rule(), type));
        }
        return new QuantizationPlan(recipe, layout, changed);
    }

    public Recipe recipe() {
        return recipe;
    }

    public LayerLayout layout() {
        return layout;
    }

    /** Every tensor, in writing order. */
    public List<Entry> entries() {
        return entries;
    }

    /** Bytes of all tensor data, unpadded. */
    public long tensorBytes() {
        return entries.stream().mapToLong(Entry::bytes).sum();
    }

    public long elementCount() {
        return entries.stream().mapToLong(e -> e.tensor().elementCount()).sum();
    }

    /** Bits per weight over every tensor, as llama.cpp reports a file's. */
    public double bitsPerWeight() {
        return 8.0 * tensorBytes() / elementCount();
    }

    /**
     * Bytes of the tensors a decoding engine maps and reads: all but the multi-token-prediction blocks', which
     * neither glmj nor llama.cpp runs when decoding (their pages of the mapped file stay on disk).
     */
    public long residentBytes() {
        return entries.stream().filter(e -> !layout.isMtp(e.layer())).mapToLong(Entry::bytes).sum();
    }

    /** The tensors whose types llama-quantize writes only with an importance matrix. */
    public List<Entry> needingImportance() {
        return entries.stream()
                .filter(e -> e.quantized() && QuantizeRules.requiresImportance(e.name(), e.type(), recipe.fileType()))
                .toList();
    }

    /**
     * Checks {@code importance} (from {@code file}; null when none was given) against the model as llama-quantize
     * does, and more strictly: every entry must name a tensor of the model and have its size (columns times
     * matrices) and finite values, and every tensor whose type needs importance must have an entry.
     *
     * @throws QuantizeException naming the first problem
     */
    public void checkImportance(ImportanceMatrix importance, String file) {
        List<Entry> needing = needingImportance();
        if (importance == null) {
            if (!needing.isEmpty()) {
                Entry e = needing.getFirst();
                throw new QuantizeException(recipe.origin() + " makes " + e.name() + " " + e.type().ggmlName + " (" + e.rule()
                        + "), which needs an importance matrix: give one with --imatrix FILE (glmj imatrix makes one)");
            }
            return;
        }
        Map<String, SourceTensor> byName = new HashMap<>();
        entries.forEach(e -> byName.put(e.name(), e.tensor()));
        for (var entry : importance.entries().entrySet()) {
            SourceTensor tensor = byName.get(entry.getKey());
            if (tensor == null) {
                throw new QuantizeException(file + ": the importance matrix has an entry for " + entry.getKey()
                        + ", which this model lacks: it was made for another model");
            }
            long size = (long) tensor.rowLength() * tensor.matrixCount();
            if (entry.getValue().sums().length != size) {
                throw new QuantizeException(file + ": imatrix size " + entry.getValue().sums().length
                        + " is different from tensor size " + size + " for " + entry.getKey() + ": it was made for another model");
            }
            try {
                importance.importance(entry.getKey());
            } catch (IllegalArgumentException nonFinite) {
                throw new QuantizeException(file + ": " + nonFinite.getMessage());
            }
        }
        for (Entry e : needing) {
            if (!importance.entries().containsKey(e.name())) {
                throw new QuantizeException(file + " has no importance for " + e.name() + ", which " + recipe.origin()
                        + " makes " + e.type().ggmlName + " (" + e.rule() + "), a type that needs it");
            }
        }
    }
}
