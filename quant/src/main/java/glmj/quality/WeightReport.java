package glmj.quality;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The weight errors of one or more models against one reference, as a table, CSV or JSON. The JSON is the form other
 * commands read back ({@link #readJson}); its fields:
 * <pre>
 * {"format": "glmj-quality-weights", "version": 1, "reference": DIR,
 *  "models": [{"model": FILE, "bytes": tensor bytes, "bits_per_weight": B, "bytes_read": N, "seconds": S, "gb_per_s": G,
 *              "total": STATS, "kinds": {KIND: STATS, ...},
 *              "layers": [{"layer": L, STATS..., "kinds": {KIND: STATS, ...}}, ...],
 *              "tensors": [{"name": N, "type": ggml type, "kind": KIND, "layer": L, STATS..., "sums": SUMS}, ...],
 *              "skipped": [reference tensors the model lacks]}]}
 * STATS: "values", "rel_rms" (||t - r|| / ||r||), "cosine", "snr_db" (null when identical), "max_abs"
 * SUMS:  "reference_squares", "test_squares", "products", "difference_squares" (exact sums the measures come from)
 * </pre>
 * {@code layer} is -1 for the tensors outside the blocks; KIND is a {@link TensorKind#label}. "bytes_read", "seconds"
 * and "gb_per_s" are those of the pass that measured the model, which reads the reference once for all its models.
 */
public record WeightReport(Path reference, List<ModelWeightErrors> models) {
    public static final String FORMAT = "glmj-quality-weights";
    public static final int VERSION = 1;
    /** Writes without closing the caller's stream (the command prints after the report). */
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    public WeightReport {
        models = List.copyOf(models);
    }

    public void writeJson(Writer out) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT).put("version", VERSION).put("reference", reference.toString());
        ArrayNode array = root.putArray("models");
        for (ModelWeightErrors m : models) {
            ObjectNode model = array.addObject();
            model.put("model", m.model().toString());
            model.put("bytes", m.modelBytes());
            model.put("bits_per_weight", m.bitsPerWeight());
            model.put("bytes_read", m.bytesRead());
            model.put("seconds", m.seconds());
            model.put("gb_per_s", m.bytesPerSecond() / 1e9);
            stats(model.putObject("total"), m.total());
            ObjectNode kinds = model.putObject("kinds");
            m.byKind().forEach((kind, error) -> stats(kinds.putObject(kind.label), error));
            ArrayNode layers = model.putArray("layers");
            Map<Integer, WeightError> byLayer = m.byLayer();
            m.byLayerAndKind().forEach((layer, perKind) -> {
                ObjectNode l = layers.addObject().put("layer", layer);
                stats(l, byLayer.get(layer));
                ObjectNode k = l.putObject("kinds");
                perKind.forEach((kind, error) -> stats(k.putObject(kind.label), error));
            });
            ArrayNode tensors = model.putArray("tensors");
            for (ModelWeightErrors.TensorError t : m.tensors()) {
                ObjectNode n = tensors.addObject().put("name", t.name()).put("type", t.type()).put("kind", t.kind().label)
                        .put("layer", t.layer());
                stats(n, t.error());
                n.putObject("sums").put("reference_squares", t.error().referenceSquares())
                        .put("test_squares", t.error().testSquares()).put("products", t.error().products())
                        .put("difference_squares", t.error().differenceSquares());
            }
            ArrayNode skipped = model.putArray("skipped");
            m.skipped().forEach(skipped::add);
        }
        JSON.writeValue(out, root);
    }

    private static void stats(ObjectNode node, WeightError e) {
        node.put("values", e.count());
        node.put("rel_rms", e.relativeRms());
        node.put("cosine", e.cosine());
        if (Double.isInfinite(e.snrDb())) {
            node.putNull("snr_db");
        } else {
            node.put("snr_db", e.snrDb());
        }
        node.put("max_abs", e.maxAbs());
    }

    /**
     * Reads a report {@link #writeJson} wrote; the aggregates are made again from the tensors' sums.
     *
     * @throws IOException when the file is not such a report (its message is one line naming the file)
     */
    public static WeightReport readJson(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !FORMAT.equals(root.path("format").asText()) || root.path("version").asInt() != VERSION) {
            throw new IOException(file + ": not a " + FORMAT + " report of version " + VERSION);
        }
        List<ModelWeightErrors> models = new ArrayList<>();
        for (JsonNode m : root.path("models")) {
            List<ModelWeightErrors.TensorError> tensors = new ArrayList<>();
            for (JsonNode t : m.path("tensors")) {
                JsonNode sums = t.path("sums");
                WeightError error = new WeightError(t.path("values").asLong(), sums.path("reference_squares").asDouble(),
                        sums.path("test_squares").asDouble(), sums.path("products").asDouble(),
                        sums.path("difference_squares").asDouble(), t.path("max_abs").asDouble());
                tensors.add(new ModelWeightErrors.TensorError(t.path("name").asText(), t.path("type").asText(),
                        TensorKind.ofLabel(t.path("kind").asText()), t.path("layer").asInt(), error));
            }
            List<String> skipped = new ArrayList<>();
            m.path("skipped").forEach(s -> skipped.add(s.asText()));
            models.add(new ModelWeightErrors(Path.of(m.path("model").asText()), m.path("bytes").asLong(),
                    m.path("bytes_read").asLong(), m.path("seconds").asDouble(), tensors, skipped));
        }
        return new WeightReport(Path.of(root.path("reference").asText()), models);
    }

    /** One line per tensor and model. */
    public void writeCsv(Writer out) throws IOException {
        out.write("model,tensor,type,kind,layer,values,rel_rms,cosine,snr_db,max_abs\n");
        for (ModelWeightErrors m : models) {
            for (ModelWeightErrors.TensorError t : m.tensors()) {
                WeightError e = t.error();
                out.write(String.join(",", csv(m.model().toString()), csv(t.name()), t.type(), csv(t.kind().label),
                        Integer.toString(t.layer()), Long.toString(e.count()), number(e.relativeRms()), number(e.cosine()),
                        Double.isInfinite(e.snrDb()) ? "inf" : number(e.snrDb()), number(e.maxAbs())) + "\n");
            }
        }
    }

    /** Per model: the errors per kind and in all, then the relative RMS error of each layer per kind. */
    public void writeTable(PrintWriter out) {
        for (ModelWeightErrors m : models) {
            out.printf(Locale.ROOT, "%s: %s of weights, %.2f bits per weight; read %s in %.1f s (%.2f GB/s)%n",
                    m.model(), megabytes(m.modelBytes()), m.bitsPerWeight(), megabytes(m.bytesRead()), m.seconds(),
                    m.bytesPerSecond() / 1e9);
            out.printf(Locale.ROOT, "  %-14s %12s %9s %10s %8s %10s%n", "kind", "values", "rel RMS", "cosine", "SNR dB", "max |err|");
            m.byKind().forEach((kind, e) -> row(out, kind.label, e));
            row(out, "all", m.total());
            Map<Integer, Map<TensorKind, WeightError>> layers = m.byLayerAndKind();
            Set<TensorKind> kinds = EnumSet.noneOf(TensorKind.class);
            layers.forEach((layer, perKind) -> {
                if (layer >= 0) {
                    kinds.addAll(perKind.keySet());
                }
            });
            kinds.remove(TensorKind.NORMS);
            out.printf("  relative RMS error per layer%n  %5s", "layer");
            kinds.forEach(k -> out.printf(" %13s", k.label));
            out.printf(" %13s%n", "all");
            Map<Integer, WeightError> all = m.byLayer();
            layers.forEach((layer, perKind) -> {
                if (layer < 0) {
                    return;
                }
                out.printf("  %5d", layer);
                for (TensorKind k : kinds) {
                    WeightError e = perKind.get(k);
                    out.printf(" %13s", e == null ? "" : percent(e.relativeRms()));
                }
                out.printf(" %13s%n", percent(all.get(layer).relativeRms()));
            });
            if (!m.skipped().isEmpty()) {
                out.printf("  not in the model, not compared: %d MTP tensors%n", m.skipped().size());
            }
            out.println();
        }
        out.flush();
    }

    private static void row(PrintWriter out, String label, WeightError e) {
        out.printf(Locale.ROOT, "  %-14s %12d %9s %10.6f %8s %10.3g%n", label, e.count(), percent(e.relativeRms()), e.cosine(),
                Double.isInfinite(e.snrDb()) ? "exact" : String.format(Locale.ROOT, "%.1f", e.snrDb()), e.maxAbs());
    }

    private static String percent(double fraction) {
        return fraction == 0 ? "0" : String.format(Locale.ROOT, fraction < 1e-3 ? "%.2e%%" : "%.3f%%", 100 * fraction);
    }

    private static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    private static String number(double value) {
        return Double.toString(value);
    }

    private static String csv(String text) {
        return text.contains(",") || text.contains("\"") ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }
}
