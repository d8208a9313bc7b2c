package glmj.cli;

import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import glmj.quality.KldStatistics.Estimate;
import glmj.quality.ModelQuality;
import glmj.quality.ModelWeightErrors;
import glmj.quality.WeightReport;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The picture of a comparison, drawn by XChart: mean KL divergence and PPL(Q)/PPL(base) against bits per weight, one
 * point (with its standard error) per model; and, given a report of {@code glmj quality weights --json}
 * ({@link WeightReport#readJson}), each layer's relative RMS weight error per model. The charts stand side by side in one PNG or SVG.
 */
final class QualityPlot {
    private static final int WIDTH = 620;
    private static final int HEIGHT = 460;

    private QualityPlot() {
    }

    /** The picture of {@code models} (and, unless null, of {@code weights}' per-layer errors) as {@code file}, PNG or SVG. */
    static void write(Path file, List<ModelQuality> models, WeightReport weights) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        charts.add(perModel("Mean KL divergence from the reference", "mean KLD (nats per token)", models,
                m -> m.statistics().kld()));
        charts.add(perModel("Perplexity against the reference's", "PPL(Q) / PPL(base)", models,
                m -> m.statistics().pplRatio()));
        if (weights != null) {
            charts.add(weightErrors(weights));
        }
        int width = WIDTH * charts.size();
        try (OutputStream out = Files.newOutputStream(file)) {
            if (WeightErrorPlot.Format.of(file) == WeightErrorPlot.Format.SVG) {
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

    /** Each model's relative RMS weight error per layer (the blocks' layers, every tensor of a layer together). */
    private static XYChart weightErrors(WeightReport weights) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Weight error per layer").xAxisTitle("layer")
                .yAxisTitle("relative RMS error").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisDecimalPattern("0");
        for (ModelWeightErrors model : weights.models()) {
            List<Double> layers = new ArrayList<>();
            List<Double> errors = new ArrayList<>();
            model.byLayer().forEach((layer, error) -> {
                if (layer >= 0) {
                    layers.add((double) layer);
                    errors.add(error.relativeRms());
                }
            });
            if (!layers.isEmpty()) {
                chart.addSeries(model.model().getFileName().toString(), layers, errors);
            }
        }
        return chart;
    }
}
