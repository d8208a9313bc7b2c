package glmj.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import glmj.quality.KldBaseReader;
import glmj.quality.KldLayout;
import glmj.quality.KldStatistics.Estimate;
import glmj.quality.KldStatistics.Percentiles;
import glmj.quality.KldSummary;
import glmj.quality.ModelQuality;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * What {@code glmj quality compare} reports: the base it compared with, the engine, each model's statistics and the
 * gates' failures; as a table, CSV, or JSON (which {@code --baseline} reads back).
 */
record CompareReport(String format, int version, Reference reference, String engine, List<ModelQuality> models,
                     List<String> failures) {
    static final String FORMAT = "glmj-quality-compare";
    static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    /** The base: its file and what makes two bases the same measurement (layout and a hash of the tokens). */
    record Reference(String file, int context, int chunks, int vocabulary, long scoredTokens, String tokensSha256) {
        static Reference of(KldBaseReader base) {
            KldLayout layout = base.layout();
            ByteBuffer bytes = ByteBuffer.allocate(4 * layout.contextSize() * layout.chunkCount()).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asIntBuffer().put(base.tokens());
            try {
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
                return new Reference(base.path().toString(), layout.contextSize(), layout.chunkCount(),
                        layout.vocabularySize(), layout.scoredTokens(), sha);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Whether a report on {@code other} measured the same thing. */
        boolean sameMeasurement(Reference other) {
            return context == other.context && chunks == other.chunks && vocabulary == other.vocabulary
                    && tokensSha256.equals(other.tokensSha256);
        }
    }

    CompareReport(Reference reference, String engine, List<ModelQuality> models, List<String> failures) {
        this(FORMAT, VERSION, reference, engine, List.copyOf(models), List.copyOf(failures));
    }

    void writeJson(Writer out) throws IOException {
        JSON.writeValue(out, this);
    }

    /** Reads what {@link #writeJson} wrote; an IOException of one line naming the file if it is not such a report. */
    static CompareReport readJson(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !FORMAT.equals(root.path("format").asText()) || root.path("version").asInt() != VERSION) {
            throw new IOException(file + ": not a " + FORMAT + " report of version " + VERSION + " (glmj quality compare --json)");
        }
        try {
            return JSON.treeToValue(root, CompareReport.class);
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": a malformed " + FORMAT + " report: " + e.getOriginalMessage());
        }
    }

    /** One line per model, every statistic in a column of its own. */
    void writeCsv(Writer out) throws IOException {
        List<String> header = new ArrayList<>(List.of("model", "bits_per_weight", "bytes", "tokens_per_second", "scored_tokens",
                "ppl", "ppl_uncertainty", "ppl_base", "ppl_base_uncertainty", "ln_ppl_correlation", "ln_ppl_ratio",
                "ln_ppl_ratio_uncertainty", "ppl_ratio", "ppl_ratio_uncertainty", "kld", "kld_uncertainty"));
        header.addAll(percentileNames("kld"));
        header.addAll(List.of("probability_delta", "probability_delta_uncertainty", "probability_delta_rms", "probability_delta_rms_uncertainty"));
        header.addAll(percentileNames("probability_delta"));
        header.addAll(List.of("same_top", "same_top_uncertainty"));
        out.write(String.join(",", header) + "\n");
        for (ModelQuality m : models) {
            KldSummary s = m.statistics();
            List<String> row = new ArrayList<>(List.of(csv(m.name()), number(m.bitsPerWeight()), Long.toString(m.bytes()),
                    number(m.tokensPerSecond()), Integer.toString(s.tokens())));
            estimates(row, s.ppl(), s.pplBase());
            row.add(number(s.lnPplCorrelation()));
            estimates(row, s.lnPplRatio(), s.pplRatio(), s.kld());
            percentiles(row, s.kldPercentiles());
            estimates(row, s.probabilityDelta(), s.probabilityDeltaRms());
            percentiles(row, s.probabilityDeltaPercentiles());
            estimates(row, s.sameTop());
            out.write(String.join(",", row) + "\n");
        }
    }

    private static final List<String> PERCENTILES = List.of("max", "p99_9", "p99", "p95", "p90", "p75", "median", "p25",
            "p10", "p5", "p1", "p0_1", "min");

    private static List<String> percentileNames(String prefix) {
        return PERCENTILES.stream().map(p -> prefix + "_" + p).toList();
    }

    private static void percentiles(List<String> row, Percentiles p) {
        for (float v : new float[] {p.max(), p.p99_9(), p.p99(), p.p95(), p.p90(), p.p75(), p.median(), p.p25(), p.p10(),
                p.p5(), p.p1(), p.p0_1(), p.min()}) {
            row.add(number(v));
        }
    }

    private static void estimates(List<String> row, Estimate... estimates) {
        for (Estimate e : estimates) {
            row.add(number(e.value()));
            row.add(number(e.uncertainty()));
        }
    }

    /** The table: the base, then one row per model. */
    void writeTable(PrintWriter out) {
        out.printf(Locale.ROOT, "reference %s: %d chunks of %d tokens, %d scored%s; engine %s%n", reference.file(),
                reference.chunks(), reference.context(), reference.scoredTokens(),
                models.isEmpty() ? "" : String.format(Locale.ROOT, ", PPL %.4f", models.getFirst().statistics().pplBase().value()),
                engine);
        int nameWidth = Math.max(5, models.stream().mapToInt(m -> m.name().length()).max().orElse(0));
        String format = "%-" + nameWidth + "s  %5s %9s %11s  %-19s  %-21s %9s %9s %9s %9s %9s  %-15s  %-15s %8s %8s %7s%n";
        out.printf(Locale.ROOT, format, "model", "bpw", "size", "PPL", "ln(PPL/PPL_ref)", "mean KLD", "median", "p90", "p99",
                "p99.9", "max", "same top %", "RMS Δp %", "Δp 1%", "Δp 99%", "tok/s");
        for (ModelQuality m : models) {
            KldSummary s = m.statistics();
            Percentiles k = s.kldPercentiles();
            out.printf(Locale.ROOT, format, m.name(), String.format(Locale.ROOT, "%.2f", m.bitsPerWeight()), size(m.bytes()),
                    String.format(Locale.ROOT, "%.4f", s.ppl().value()), plusMinus("%.5f", s.lnPplRatio(), 1),
                    plusMinus("%.6f", s.kld(), 1), f6(k.median()), f6(k.p90()), f6(k.p99()), f6(k.p99_9()), f6(k.max()),
                    plusMinus("%.3f", s.sameTop(), 100), plusMinus("%.3f", s.probabilityDeltaRms(), 100),
                    String.format(Locale.ROOT, "%.3f", 100.0 * s.probabilityDeltaPercentiles().p1()),
                    String.format(Locale.ROOT, "%.3f", 100.0 * s.probabilityDeltaPercentiles().p99()),
                    String.format(Locale.ROOT, "%.1f", m.tokensPerSecond()));
        }
    }

    private static String plusMinus(String format, Estimate e, double scale) {
        return String.format(Locale.ROOT, format + " ± " + format, scale * e.value(), scale * e.uncertainty());
    }

    private static String f6(float value) {
        return String.format(Locale.ROOT, "%.6f", value);
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    private static String number(double value) {
        return Double.isFinite(value) ? Double.toString(value) : "";
    }

    private static String csv(String text) {
        return text.contains(",") || text.contains("\"") ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }
}
