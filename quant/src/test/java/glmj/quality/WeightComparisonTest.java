package glmj.quality;

import glmj.convert.CheckpointConverter;
import glmj.convert.ConvertedTensor;
import glmj.convert.GlmDsaTensorMap;
import glmj.convert.OutputType;
import glmj.convert.TensorTypes;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFFormatException;
import glmj.gguf.GGUFWriter;
import glmj.gguf.TensorInfo;
import glmj.hf.HfCheckpoint;
import glmj.tensor.GGMLType;
import glmj.testdata.BenchGlmDsa;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class WeightComparisonTest {
    @TempDir
    static Path dir;
    private static HfCheckpoint checkpoint;
    private static GlmDsaTensorMap reference;

    @BeforeAll
    static void open() throws IOException {
        checkpoint = HfCheckpoint.open(TestModels.tinyCheckpoint());
        reference = GlmDsaTensorMap.of(checkpoint);
    }

    @AfterAll
    static void close() {
        checkpoint.close();
    }

    /**
     * Every matrix quantized to {@code type}, or to Q8_0 where its rows are not whole blocks of it, but for the
     * embeddings and head, which stay BF16 as the checkpoint holds them (exactly, and quickly: they are most of the
     * tiny model's values).
     */
    private record AllMatrices(GGMLType type) implements TensorTypes {
        @Override
        public GGMLType typeOf(ConvertedTensor tensor) {
            if (OutputType.keepsF32(tensor)) {
                return GGMLType.F32;
            }
            if (tensor.name().equals("token_embd.weight") || tensor.name().equals("output.weight")) {
                return GGMLType.BF16;
            }
            return tensor.rowLength() % type.blockSize == 0 ? type : GGMLType.Q8_0;
        }

        @Override
        public int fileType() {
            return 7;
        }
    }

    private static ModelWeightErrors measure(TensorTypes types) throws IOException {
        try (GGUFFile model = GGUFFile.open(converted(types))) {
            return WeightComparison.measure(reference, checkpoint.directory(), model, 2, WeightComparison.Progress.NONE);
        }
    }

    /** The tiny checkpoint converted to {@code types}, once. */
    private static Path converted(TensorTypes types) throws IOException {
        Path file = dir.resolve((types instanceof AllMatrices all ? all.type() : types) + ".gguf");
        if (!Files.exists(file)) {
            CheckpointConverter.convert(checkpoint, file, types, "tiny", CheckpointConverter.Progress.NONE);
        }
        return file;
    }

    @Test
    void modelsMeasuredInOnePassReadTheReferenceOnceAndGetTheirOwnErrors() throws IOException {
        ModelWeightErrors q4 = measure(new AllMatrices(GGMLType.Q4_K));
        ModelWeightErrors q2 = measure(new AllMatrices(GGMLType.Q2_K));
        List<ModelWeightErrors> both;
        try (GGUFFile a = GGUFFile.open(converted(new AllMatrices(GGMLType.Q4_K)));
             GGUFFile b = GGUFFile.open(converted(new AllMatrices(GGMLType.Q2_K)))) {
            both = WeightComparison.measure(reference, checkpoint.directory(), List.of(a, b), 2, WeightComparison.Progress.NONE);
        }
        long referenceBytes = reference.tensors().stream().mapToLong(ConvertedTensor::sourceBytes).sum();
        assertEquals(q4.bytesRead() + q2.bytesRead() - referenceBytes, both.get(0).bytesRead(), "the reference read once");
        assertEquals(both.get(0).bytesRead(), both.get(1).bytesRead());
        List<ModelWeightErrors> alone = List.of(q4, q2);
        for (int m = 0; m < 2; m++) {
            assertEquals(alone.get(m).model(), both.get(m).model());
            assertEquals(alone.get(m).tensors().size(), both.get(m).tensors().size());
            for (int t = 0; t < alone.get(m).tensors().size(); t++) {
                WeightError expected = alone.get(m).tensors().get(t).error(), actual = both.get(m).tensors().get(t).error();
                String name = alone.get(m).tensors().get(t).name();
                assertEquals(name, both.get(m).tensors().get(t).name());
                assertEquals(expected.count(), actual.count(), name);
                assertEquals(expected.maxAbs(), actual.maxAbs(), name);
                // the same chunk sums, added in whatever order the threads finished them
                assertEquals(expected.differenceSquares(), actual.differenceSquares(), 1e-12 * expected.differenceSquares(), name);
                assertEquals(expected.products(), actual.products(), 1e-12 * Math.abs(expected.products()), name);
            }
        }
        assertTrue(both.get(1).total().relativeRms() > both.get(0).total().relativeRms());
    }

    @Test
    void anF32ConversionIsTheReferenceItself() throws IOException {
        ModelWeightErrors f32 = measure(OutputType.F32);
        assertEquals(reference.tensors().size(), f32.tensors().size());
        WeightError total = f32.total();
        assertEquals(reference.tensors().stream().mapToLong(ConvertedTensor::elementCount).sum(), total.count());
        assertEquals(0, total.relativeRms());
        assertEquals(1, total.cosine());
        assertEquals(Double.POSITIVE_INFINITY, total.snrDb());
        assertEquals(0, total.maxAbs());
        assertEquals(32, f32.bitsPerWeight(), 1e-6);
        assertTrue(f32.skipped().isEmpty());
        assertTrue(f32.bytesRead() > reference.sourceBytes());
    }

    @Test
    void errorsGrowAsBitsDrop() throws IOException {
        ModelWeightErrors q8 = measure(new AllMatrices(GGMLType.Q8_0));
        ModelWeightErrors q4 = measure(new AllMatrices(GGMLType.Q4_K));
        ModelWeightErrors q2 = measure(new AllMatrices(GGMLType.Q2_K));
        System.out.printf("relative RMS error: q8_0 %.2e, q4_K %.2e, q2_K %.2e%n", q8.total().relativeRms(),
                q4.total().relativeRms(), q2.total().relativeRms());
        assertTrue(q8.total().relativeRms() < q4.total().relativeRms());
        assertTrue(q4.total().relativeRms() < q2.total().relativeRms());
        assertTrue(q8.total().snrDb() > q4.total().snrDb() && q4.total().snrDb() > q2.total().snrDb());
        assertTrue(q8.total().cosine() > q4.total().cosine() && q4.total().cosine() > q2.total().cosine());
        for (TensorKind kind : List.of(TensorKind.EXPERT_GATE, TensorKind.EXPERT_UP, TensorKind.EXPERT_DOWN, TensorKind.ATTENTION)) {
            assertTrue(q8.byKind().get(kind).relativeRms() < q4.byKind().get(kind).relativeRms(), kind.label);
            assertTrue(q4.byKind().get(kind).relativeRms() < q2.byKind().get(kind).relativeRms(), kind.label);
        }
        assertEquals(0, q2.byKind().get(TensorKind.NORMS).relativeRms(), "norms stay F32");
        assertEquals(0, q2.byKind().get(TensorKind.EMBEDDINGS).relativeRms(), "BF16 embeddings are the checkpoint's");
        assertTrue(q2.bitsPerWeight() < q4.bitsPerWeight() && q4.bitsPerWeight() < q8.bitsPerWeight());
    }

    @Test
    void aggregatesWeighEveryValueAlike() throws IOException {
        ModelWeightErrors q4 = measure(new AllMatrices(GGMLType.Q4_K));
        double differences = 0;
        double squares = 0;
        double maxAbs = 0;
        long values = 0;
        for (ModelWeightErrors.TensorError t : q4.tensors()) {
            if (t.layer() == 2 && t.kind() == TensorKind.ATTENTION) {
                differences += t.error().differenceSquares();
                squares += t.error().referenceSquares();
                maxAbs = Math.max(maxAbs, t.error().maxAbs());
                values += t.error().count();
            }
        }
        WeightError attention2 = q4.byLayerAndKind().get(2).get(TensorKind.ATTENTION);
        assertEquals(values, attention2.count());
        assertEquals(Math.sqrt(differences / squares), attention2.relativeRms(), 1e-12);
        assertEquals(maxAbs, attention2.maxAbs());
        assertEquals(q4.total().count(), q4.byLayer().values().stream().mapToLong(WeightError::count).sum());
        assertEquals(q4.total().count(), q4.byKind().values().stream().mapToLong(WeightError::count).sum());
        assertEquals(List.of(-1, 0, 1, 2, 3), List.copyOf(q4.byLayer().keySet()));
        assertTrue(q4.byLayerAndKind().get(3).containsKey(TensorKind.MTP));
        assertTrue(q4.byLayerAndKind().get(0).containsKey(TensorKind.DENSE_FFN));
        assertFalse(q4.byLayerAndKind().get(0).containsKey(TensorKind.EXPERT_GATE));

        WeightReport report = new WeightReport(checkpoint.directory(), List.of(q4));
        Path json = dir.resolve("report.json");
        try (var out = Files.newBufferedWriter(json)) {
            report.writeJson(out);
        }
        WeightReport back = WeightReport.readJson(json);
        ModelWeightErrors read = back.models().getFirst();
        assertEquals(q4.tensors().size(), read.tensors().size());
        assertEquals(q4.total().relativeRms(), read.total().relativeRms(), 1e-15);
        assertEquals(q4.byLayer().get(1).snrDb(), read.byLayer().get(1).snrDb(), 1e-12);
        StringWriter csv = new StringWriter();
        report.writeCsv(csv);
        assertEquals(1 + q4.tensors().size(), csv.toString().lines().count());
        StringWriter table = new StringWriter();
        report.writeTable(new PrintWriter(table));
        assertTrue(table.toString().contains("experts down"), table.toString());
    }

    @Test
    void aModelThatDoesNotMatchTheReferenceIsRefusedInOneLine() throws IOException {
        try (GGUFFile other = GGUFFile.open(TestModels.tinyF32())) {
            GGUFFormatException e = assertThrows(GGUFFormatException.class,
                    () -> WeightComparison.measure(reference, checkpoint.directory(), other, 2, WeightComparison.Progress.NONE));
            assertEquals(TestModels.tinyF32() + ": tensor 'token_embd.weight' is [256, 151679] but [256, 151680] in the reference "
                    + checkpoint.directory(), e.getMessage());
        }
        Path llama = dir.resolve("llama.gguf");
        new GGUFWriter().putString("general.architecture", "llama").write(llama);
        assertRefused(llama, llama + ": general.architecture is 'llama' but the reference " + checkpoint.directory()
                + " is GLM-5 (glm-dsa)");
        ModelWeightErrors q8 = measure(new AllMatrices(GGMLType.Q8_0));
        Path converted = dir.resolve("Q8_0.gguf");
        Path extra = dir.resolve("extra.gguf");
        Path noNorm = dir.resolve("no-norm.gguf");
        Path noMtp = dir.resolve("no-mtp.gguf");
        try (GGUFFile q8File = GGUFFile.open(converted)) {
            GGUFWriter.copyOf(q8File).addTensor("blk.0.attn_bias.weight", GGMLType.F32, new long[]{4},
                    java.lang.foreign.MemorySegment.ofArray(new float[4])).write(extra);
            copyWithout(q8File, "output_norm.weight").write(noNorm);
            copyWithout(q8File, "blk.3.").write(noMtp);
        }
        assertRefused(extra, extra + ": tensor 'blk.0.attn_bias.weight' has no counterpart in the reference " + checkpoint.directory());
        assertRefused(noNorm, noNorm + ": tensor 'output_norm.weight' of the reference is missing");
        try (GGUFFile model = GGUFFile.open(noMtp)) {
            ModelWeightErrors errors = WeightComparison.measure(reference, checkpoint.directory(), model, 1, WeightComparison.Progress.NONE);
            assertEquals(reference.tensors().stream().filter(t -> t.name().startsWith("blk.3.")).count(), errors.skipped().size(),
                    "a model without its MTP layer is compared without it");
            assertEquals(q8.tensors().size() - errors.skipped().size(), errors.tensors().size());
            assertEquals(q8.byLayer().get(1).relativeRms(), errors.byLayer().get(1).relativeRms(), 1e-12);
        }
    }

    /**
     * The bench model's checkpoint (scripts/bench-model --checkpoint) holds the weights the bench model quantized: every
     * tensor's error is its type's rounding, far from the relative RMS error of about 1.4 of unrelated weights.
     */
    @Test
    void theBenchModelIsItsCheckpointQuantized() throws IOException {
        try (HfCheckpoint bench = HfCheckpoint.open(TestModels.benchCheckpoint(BenchGlmDsa.Scale.SMALL));
             GGUFFile model = GGUFFile.open(TestModels.benchModel(BenchGlmDsa.Scale.SMALL))) {
            ModelWeightErrors errors = WeightComparison.measure(GlmDsaTensorMap.of(bench), bench.directory(), model, 2,
                    WeightComparison.Progress.NONE);
            assertTrue(errors.skipped().isEmpty(), errors.skipped().toString());
            assertEquals(model.tensors().size(), errors.tensors().size());
            for (ModelWeightErrors.TensorError t : errors.tensors()) {
                assertTrue(t.error().relativeRms() < 0.45, t.name() + " (" + t.type() + "): relative RMS error " + t.error().relativeRms());
            }
            System.out.printf("bench model (small) against its checkpoint: relative RMS error %.3f in all, %.3f at most%n",
                    errors.total().relativeRms(), errors.tensors().stream().mapToDouble(t -> t.error().relativeRms()).max().orElseThrow());
        }
    }

    @Test
    void vectorSumsEqualDoubleSumsWithinFloatRounding() {
        SplittableRandom random = new SplittableRandom(3);
        for (int count : new int[]{1, 15, 17, 4096, 4097, 10_003}) {
            float[] r = new float[count];
            float[] t = new float[count];
            double[] expected = new double[5];
            for (int i = 0; i < count; i++) {
                r[i] = (float) random.nextGaussian();
                t[i] = r[i] + (float) (0.01 * random.nextGaussian());
                expected[0] += (double) r[i] * r[i];
                expected[1] += (double) t[i] * t[i];
                expected[2] += (double) r[i] * t[i];
                expected[3] += (double) (t[i] - r[i]) * (t[i] - r[i]);
                expected[4] = Math.max(expected[4], Math.abs(t[i] - r[i]));
            }
            double[] sums = new double[5];
            WeightComparison.compare(r, t, count, sums);
            for (int k = 0; k < 4; k++) {
                assertEquals(expected[k], sums[k], 1e-5 * Math.abs(expected[k]) + 1e-9, count + " values, sum " + k);
            }
            assertEquals(expected[4], sums[4], 0, "the largest difference is exact");
        }
    }

    @Test
    void theLargestDifferenceIsNanOrInfiniteWhereAValueIs() {
        for (int at : new int[]{0, 7, 4095, 4100}) {
            float[] r = new float[4103];
            float[] t = new float[r.length];
            Arrays.fill(r, -2);
            Arrays.fill(t, 3);
            double[] sums = new double[5];
            WeightComparison.compare(r, t, r.length, sums);
            assertEquals(5, sums[4], "every difference is 5 at " + at);
            t[at] = Float.NEGATIVE_INFINITY;
            WeightComparison.compare(r, t, r.length, sums);
            assertEquals(Double.POSITIVE_INFINITY, sums[4], "an infinite value at " + at);
            t[at] = Float.NaN;
            WeightComparison.compare(r, t, r.length, sums);
            assertTrue(Double.isNaN(sums[4]), "a NaN at " + at + " gave " + sums[4]);
        }
    }

    private static void assertRefused(Path file, String message) throws IOException {
        try (GGUFFile model = GGUFFile.open(file)) {
            GGUFFormatException e = assertThrows(GGUFFormatException.class,
                    () -> WeightComparison.measure(reference, checkpoint.directory(), model, 2, WeightComparison.Progress.NONE));
            assertEquals(message, e.getMessage());
        }
    }

    private static GGUFWriter copyWithout(GGUFFile file, String prefix) {
        GGUFWriter w = new GGUFWriter();
        w.putString("general.architecture", file.metadata().getString("general.architecture"));
        List<TensorInfo> kept = new ArrayList<>();
        for (TensorInfo t : file.tensors()) {
            if (!t.name().startsWith(prefix)) {
                kept.add(t);
            }
        }
        kept.forEach(t -> w.addTensor(t.name(), t.type(), t.shape(), t.data()));
        return w;
    }
}
