package glmj.cli;

import glmj.quality.ModelWeightErrors;
import glmj.quality.TensorKind;
import glmj.quality.WeightError;
import glmj.quality.WeightReport;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A picture of a weight report: each layer's relative RMS error per kind of tensor, one line per kind and model (a
 * colour per kind, a marker and line style per model), on a logarithmic scale. The norms are left out (they are F32
 * in every GGUF), and so are errors of zero (tensors kept as the reference holds them).
 */
final class WeightErrorPlot {
    /** The picture formats, by file extension. */
    enum Format {
        PNG, SVG;

        static Format of(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            Format format = name.endsWith(".png") ? PNG : name.endsWith(".svg") ? SVG : null;
            if (format == null) {
                throw new UserInputException("--plot " + file + ": the file name must end in .png or .svg");
            }
            Path parent = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(parent)) {
                throw new UserInputException("--plot " + file + ": no such directory " + parent);
            }
            return format;
        }
    }

    private static final List<Marker> MARKERS = List.of(SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.DIAMOND,
            SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS);
    private static final List<BasicStroke> LINES = List.of(SeriesLines.SOLID, SeriesLines.DASH_DASH, SeriesLines.DOT_DOT,
            SeriesLines.DASH_DOT);
    /** A colour per kind, in {@link TensorKind} order (a colour-blind-safe palette, then greys). */
    private static final List<Color> COLORS = List.of(new Color(0x33, 0x22, 0x88), new Color(0x88, 0xCC, 0xEE),
            new Color(0x44, 0xAA, 0x99), new Color(0x11, 0x77, 0x33), new Color(0x99, 0x99, 0x33), new Color(0xDD, 0xCC, 0x77),
            new Color(0xCC, 0x66, 0x77), new Color(0x88, 0x22, 0x55), new Color(0xAA, 0x44, 0x99), new Color(0xE6, 0x61, 0x00),
            new Color(0x77, 0x77, 0x77), new Color(0x33, 0x33, 0x33));

    private WeightErrorPlot() {
    }

    static void write(WeightReport report, Path file, Format format) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = chart(report);
        try (OutputStream out = Files.newOutputStream(file)) {
            if (format == Format.PNG) {
                BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            } else {
                VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            }
        }
    }

    static XYChart chart(WeightReport report) {
        XYChart chart = new XYChartBuilder().width(1200).height(700)
                .title("Weight error per layer against " + report.reference().getFileName())
                .xAxisTitle("layer").yAxisTitle("relative RMS error ||q - r|| / ||r||").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.getStyler().setYAxisDecimalPattern("0.#E0");
        boolean anyError = false;
        double smallest = Double.POSITIVE_INFINITY;
        double largest = 0;
        List<Runnable> series = new ArrayList<>();
        for (int m = 0; m < report.models().size(); m++) {
            ModelWeightErrors model = report.models().get(m);
            Marker marker = MARKERS.get(m % MARKERS.size());
            BasicStroke line = LINES.get(m % LINES.size());
            String modelName = model.model().getFileName().toString();
            for (TensorKind kind : TensorKind.values()) {
                if (kind == TensorKind.NORMS) {
                    continue;
                }
                List<Double> layers = new ArrayList<>();
                List<Double> errors = new ArrayList<>();
                for (Map.Entry<Integer, Map<TensorKind, WeightError>> layer : model.byLayerAndKind().entrySet()) {
                    WeightError e = layer.getValue().get(kind);
                    if (layer.getKey() >= 0 && e != null && e.relativeRms() > 0) {
                        layers.add((double) layer.getKey());
                        errors.add(e.relativeRms());
                        smallest = Math.min(smallest, e.relativeRms());
                        largest = Math.max(largest, e.relativeRms());
                    }
                }
                if (!layers.isEmpty()) {
                    anyError = true;
                    String name = (report.models().size() > 1 ? modelName + " " : "") + kind.label;
                    series.add(() -> {
                        XYSeries s = chart.addSeries(name, layers, errors);
                        s.setMarker(marker);
                        s.setLineStyle(line);
                        s.setLineColor(COLORS.get(kind.ordinal()));
                        s.setMarkerColor(COLORS.get(kind.ordinal()));
                    });
                }
            }
        }
        chart.getStyler().setYAxisLogarithmic(anyError);
        if (anyError) {
            // whole decades, so that the axis has labelled ticks even when every error lies within one decade
            chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(smallest))));
            chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(largest))));
        }
        series.forEach(Runnable::run);
        if (!anyError) {
            chart.setTitle(chart.getTitle() + ": every weight equals the reference");
            chart.addSeries("no error", List.of(0.0), List.of(0.0));
        }
        return chart;
    }
}
