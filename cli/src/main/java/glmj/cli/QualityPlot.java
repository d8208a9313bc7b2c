package glmj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import glmj.quality.KldStatistics.Estimate;
import glmj.quality.ModelQuality;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The picture of a comparison, drawn by XChart: mean KL divergence and PPL(Q)/PPL(base) against bits per weight, one
 * point (with its standard error) per model; and, given the JSON of {@code glmj quality weights}, each layer's relative
 * RMS weight error per model. The charts stand side by side in one PNG or SVG.
 */
final class QualityPlot {
    private static final int WIDTH = 620;
    private static final int HEIGHT = 460;

    /** One model's weight error per layer, from a {@code glmj quality weights --json} report. */
    record LayerErrors(String model, List<Double> layers, List<Double> relativeRms) {
    }

    private QualityPlot() {
    }

    /** Checks that {@code file} names a PNG or SVG in an existing directory; a UserInputException says otherwise. */
    static void checkTarget(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".png") && !name.endsWith(".svg")) {
            throw new UserInputException("--plot " + file + ": the file name must end in .png or .svg");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) {
            throw new UserInputException("--plot " + file + ": no such directory " + parent);
        }
    }

    static void write(Path file, List<ModelQuality> models, List<LayerErrors> weights) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        charts.add(perModel("Mean KL divergence from the reference", "mean KLD (nats per token)", models,
                m -> m.statistics().kld()));
        charts.add(perModel("Perplexity against the reference's", "PPL(Q) / PPL(base)", models,
                m -> m.statistics().pplRatio()));
        if (!weights.isEmpty()) {
            charts.add(weightErrors(weights));
        }
        int width = WIDTH * charts.size();
        try (OutputStream out = Files.newOutputStream(file)) {
            if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg")) {
                VectorGraphics2D g = new VectorGraphics2D();
                paint(g, charts);
                new SVGProcessor().getDocument(g.getCommands(), new PageSize(0, 0, width, HEIGHT)).writeTo(out);
            } else {
                BufferedImage image = new BufferedImage(width, HEIGHT, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = image.createGraphics();
                paint(g, charts);
                g.dispose();
                ImageIO.write(image, "png", out);
            }
        }
    }

    private static void paint(Graphics2D g, List<XYChart> charts) {
        for (int i = 0; i < charts.size(); i++) {
            Graphics2D panel = (Graphics2D) g.create(i * WIDTH, 0, WIDTH, HEIGHT);
            charts.get(i).paint(panel, WIDTH, HEIGHT);
            panel.dispose();
        }
    }

    /** A measure against bits per weight: a series per model, so the legend names them. */
    private static XYChart perModel(String title, String yTitle, List<ModelQuality> models, Function<ModelQuality, Estimate> measure) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("bits per weight")
                .yAxisTitle(yTitle).build();
        chart.getStyler().setDefaultSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setMarkerSize(9);
        for (ModelQuality m : models) {
            Estimate e = measure.apply(m);
            XYSeries series = chart.addSeries(m.name(), new double[] {m.bitsPerWeight()}, new double[] {e.value()},
                    new double[] {e.uncertainty()});
            series.setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    private static XYChart weightErrors(List<LayerErrors> weights) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Weight error per layer").xAxisTitle("layer")
                .yAxisTitle("relative RMS error").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisDecimalPattern("0");
        for (LayerErrors w : weights) {
            chart.addSeries(w.model(), w.layers(), w.relativeRms());
        }
        return chart;
    }

    /**
     * Each model's per-layer relative RMS error (the layers of the blocks, whole) from the JSON {@code glmj quality
     * weights --json} writes: {@code {"format": "glmj-quality-weights", "models": [{"model", "layers": [{"layer",
     * "rel_rms"}]}]}}.
     */
    static List<LayerErrors> readWeights(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !"glmj-quality-weights".equals(root.path("format").asText())) {
            throw new IOException(file + ": not a glmj-quality-weights report (glmj quality weights --json)");
        }
        List<LayerErrors> models = new ArrayList<>();
        for (JsonNode model : root.path("models")) {
            List<Double> layers = new ArrayList<>();
            List<Double> errors = new ArrayList<>();
            for (JsonNode layer : model.path("layers")) {
                if (layer.path("layer").asInt(-1) >= 0 && layer.path("rel_rms").isNumber()) {
                    layers.add(layer.path("layer").asDouble());
                    errors.add(layer.path("rel_rms").asDouble());
                }
            }
            if (!layers.isEmpty()) {
                models.add(new LayerErrors(Path.of(model.path("model").asText()).getFileName().toString(), layers, errors));
            }
        }
        if (models.isEmpty()) {
            throw new IOException(file + ": no model with per-layer errors");
        }
        return models;
    }
}
