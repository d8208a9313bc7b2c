package glmj.quant;

import glmj.convert.CheckpointConverter;
import glmj.convert.OutputType;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFWriter;
import glmj.gguf.TensorInfo;
import glmj.hf.HfCheckpoint;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.tensor.GGMLType;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** glmj's quantization of the tiny FP8 checkpoint and of GGUFs made from it, written as files. */
class ModelWriterTest {
    private static final int THREADS = 2;

    @TempDir
    static Path dir;
    private static Path checkpoint;

    @BeforeAll
    static void checkpoint() {
        checkpoint = TestModels.tinyCheckpoint();
    }

    /** Writes {@code from} with {@code recipe} (no importance) to {@code out}. */
    private static void quantize(Path from, Recipe recipe, Path out) throws IOException {
        try (ModelSource source = ModelSource.open(from, from.equals(checkpoint) ? "tiny GLM-5" : null)) {
            QuantizationPlan plan = plan(source, recipe);
            new ModelWriter(source, plan, null, null).write(out, 0, THREADS, ModelWriter.Progress.NONE);
        }
    }

    private static QuantizationPlan plan(ModelSource source, Recipe recipe) throws IOException {
        return QuantizationPlan.of(recipe, source.tensors(), LayerLayout.of(source.metadata(recipe.fileType()).metadata(source.path())));
    }

    @Test
    void bf16AndF32RecipesWriteWhatTheConverterWrites() throws IOException {
        try (HfCheckpoint c = HfCheckpoint.open(checkpoint)) {
            for (OutputType type : new OutputType[] {OutputType.BF16, OutputType.F32}) {
                Path converted = dir.resolve("converted-" + type + ".gguf");
                Path quantized = dir.resolve("quantized-" + type + ".gguf");
                CheckpointConverter.convert(c, converted, type, "tiny GLM-5");
                quantize(checkpoint, Recipes.resolve(type.name()), quantized);
                assertEquals(-1, Files.mismatch(converted, quantized), type + ": the whole file");
            }
        }
    }

    /** The F32 file holds the checkpoint's values exactly, so requantizing it gives what quantizing the checkpoint gives. */
    @Test
    void requantizingTheF32FileIsQuantizingTheCheckpoint() throws IOException {
        Path f32 = dir.resolve("requantize-f32.gguf");
        Path direct = dir.resolve("direct-q4km.gguf");
        Path again = dir.resolve("again-q4km.gguf");
        Recipe q4km = Recipes.resolve("Q4_K_M");
        quantize(checkpoint, Recipes.resolve("F32"), f32);
        quantize(checkpoint, q4km, direct);
        quantize(f32, q4km, again);
        assertEquals(-1, Files.mismatch(direct, again));
        try (GGUFFile file = GGUFFile.open(direct)) {
            assertEquals(FileType.Q4_K_M.id, file.metadata().getInt("general.file_type"));
            assertEquals(GGMLType.Q6_K, file.tensor("output.weight").type());
            assertEquals(GGMLType.Q6_K, file.tensor("blk.2.ffn_down_exps.weight").type(), "a more-bits block of 4");
            assertEquals(GGMLType.Q4_K, file.tensor("blk.1.ffn_down_exps.weight").type());
            assertEquals(GGMLType.Q5_0, file.tensor("blk.1.attn_q_b.weight").type(), "rows of 576 fall back");
            assertEquals(GGMLType.F32, file.tensor("blk.1.ffn_gate_inp.weight").type());
        }
        // and a GGUF tensor whose type stays is copied as it is
        Path copied = dir.resolve("copied-q4km.gguf");
        quantize(direct, q4km, copied);
        assertEquals(-1, Files.mismatch(direct, copied));
    }

    @Test
    void aSplitSetHoldsWhatTheSingleFileHolds() throws IOException {
        Path single = dir.resolve("whole.gguf");
        Recipe q8 = Recipes.resolve("Q8_0");
        quantize(checkpoint, q8, single);
        long max = 20_000_000;
        List<Path> shards;
        try (ModelSource source = ModelSource.open(checkpoint, "tiny GLM-5")) {
            ModelWriter writer = new ModelWriter(source, plan(source, q8), null, null);
            Path output = dir.resolve("split/tiny-Q8_0.gguf");
            Files.createDirectories(output.getParent());
            List<Path> expected = writer.files(output, max);
            shards = writer.write(output, max, THREADS, ModelWriter.Progress.NONE);
            assertEquals(expected, shards);
            assertEquals(writer.gguf().shardSizes(max), shards.stream().map(ModelWriterTest::size).toList());
        }
        assertTrue(shards.size() >= 3, shards.toString());
        assertEquals("tiny-Q8_0-00001-of-0000" + shards.size() + ".gguf", shards.getFirst().getFileName().toString());
        try (GGUFFile whole = GGUFFile.open(single); GGUFFile split = GGUFFile.open(shards.get(1))) {
            assertEquals(whole.tensors().size(), split.tensors().size());
            for (TensorInfo t : whole.tensors()) {
                assertEquals(-1, t.data().mismatch(split.tensor(t.name()).data()), t.name());
            }
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Progress counts the tensor bytes written (from any thread) up to the plan's; while it runs only the temporary file
     * exists, so a run killed at any point leaves no file by the output's name.
     */
    @Test
    void progressCountsBytesWrittenAndOnlyTheTemporaryFileExistsUntilTheEnd() throws IOException {
        Path out = dir.resolve("progress/tiny.gguf");
        Files.createDirectories(out.getParent());
        try (ModelSource source = ModelSource.open(checkpoint, "tiny GLM-5")) {
            QuantizationPlan plan = plan(source, Recipes.resolve("Q8_0"));
            List<long[]> reports = Collections.synchronizedList(new ArrayList<>());
            new ModelWriter(source, plan, null, null).write(out, 0, THREADS, (done, total) -> {
                reports.add(new long[] {done, total});
                if (done < total) {
                    assertTrue(!Files.exists(out) && Files.exists(GGUFWriter.temporaryFile(out)), "while writing, at " + done);
                }
            });
            assertTrue(reports.size() > plan.entries().size() / 2, reports.size() + " reports");
            long most = 0;
            for (long[] report : reports) {
                assertEquals(plan.tensorBytes(), report[1]);
                assertTrue(report[0] > 0 && report[0] <= report[1], report[0] + " of " + report[1]);
                most = Math.max(most, report[0]);
            }
            assertEquals(plan.tensorBytes(), most);
        }
        assertTrue(Files.exists(out) && !Files.exists(GGUFWriter.temporaryFile(out)));
    }

    /** A tensor that fails half way through the file: the write fails and leaves neither the file nor its temporary. */
    @Test
    void aFailedWriteLeavesNoFile() throws IOException {
        Path out = dir.resolve("failed/never.gguf");
        Files.createDirectories(out.getParent());
        try (ModelSource source = ModelSource.open(checkpoint, "tiny GLM-5")) {
            QuantizationPlan plan = plan(source, Recipes.resolve("Q8_0"));
            SourceTensor failing = plan.entries().get(plan.entries().size() / 2).tensor();
            ModelSource broken = new ModelSource() {
                @Override
                public Path path() {
                    return source.path();
                }

                @Override
                public List<? extends SourceTensor> tensors() {
                    return source.tensors();
                }

                @Override
                public GGUFWriter metadata(FileType fileType) throws IOException {
                    return source.metadata(fileType);
                }

                @Override
                public void close() {
                }
            };
            QuantizationPlan brokenPlan = QuantizationPlan.of(plan.recipe(), source.tensors().stream()
                    .map(t -> t == failing ? throwing(t) : t).toList(), plan.layout());
            ModelWriter writer = new ModelWriter(broken, brokenPlan, null, null);
            assertThrows(IllegalStateException.class, () -> writer.write(out, 0, THREADS, ModelWriter.Progress.NONE));
        }
        try (Stream<Path> left = Files.list(out.getParent())) {
            assertEquals(List.of(), left.toList());
        }
    }

    private static SourceTensor throwing(SourceTensor t) {
        return new SourceTensor() {
            @Override
            public String name() {
                return t.name();
            }

            @Override
            public long[] shape() {
                return t.shape();
            }

            @Override
            public GGMLType storedType() {
                return null;
            }

            @Override
            public MemorySegment storedData() {
                return null;
            }

            @Override
            public GGMLType unquantizedType() {
                return t.unquantizedType();
            }

            @Override
            public void readRows(long firstRow, int rows, float[] dst, int at) {
                throw new IllegalStateException("the disk went away");
            }
        };
    }

    @Test
    void importanceMustFitTheModel() throws IOException {
        try (ModelSource source = ModelSource.open(checkpoint, "tiny GLM-5")) {
            QuantizationPlan plan = plan(source, Recipes.resolve("Q2_K_XL"));
            QuantizeException missing = assertThrows(QuantizeException.class, () -> plan.checkImportance(null, null));
            assertEquals("built-in recipe Q2_K_XL makes blk.2.ffn_gate_exps.weight iq2_xxs (line 20: blk.*.ffn_{gate,up}_exps.weight"
                    + " iq2_xxs), which needs an importance matrix: give one with --imatrix FILE (glmj imatrix makes one)", missing.getMessage());

            QuantizeException foreign = assertThrows(QuantizeException.class,
                    () -> plan.checkImportance(matrix(Map.of("blk.40.ffn_down_exps.weight", new float[256 * 8])), "im.gguf"));
            assertEquals("im.gguf: the importance matrix has an entry for blk.40.ffn_down_exps.weight, which this model lacks:"
                    + " it was made for another model", foreign.getMessage());

            QuantizeException size = assertThrows(QuantizeException.class,
                    () -> plan.checkImportance(matrix(Map.of("blk.2.ffn_down_exps.weight", new float[256])), "im.gguf"));
            assertEquals("im.gguf: imatrix size 256 is different from tensor size 2048 for blk.2.ffn_down_exps.weight: it was"
                    + " made for another model", size.getMessage());

            QuantizeException absent = assertThrows(QuantizeException.class,
                    () -> plan.checkImportance(matrix(Map.of("blk.2.ffn_down_exps.weight", new float[2048])), "im.gguf"));
            assertTrue(absent.getMessage().startsWith("im.gguf has no importance for blk.2.ffn_gate_exps.weight, which built-in"
                    + " recipe Q2_K_XL makes iq2_xxs"), absent.getMessage());

            float[] infinite = new float[2048];
            infinite[7] = Float.POSITIVE_INFINITY;
            QuantizeException notFinite = assertThrows(QuantizeException.class,
                    () -> plan.checkImportance(matrix(Map.of("blk.2.ffn_gate_exps.weight", infinite)), "im.gguf"));
            assertEquals("im.gguf: the importance matrix holds a non-finite value (Infinity) for blk.2.ffn_gate_exps.weight",
                    notFinite.getMessage());

            plan.checkImportance(matrix(Map.of("blk.2.ffn_gate_exps.weight", new float[2048], "blk.2.ffn_up_exps.weight",
                    new float[2048])), "im.gguf");
        }
    }

    private static ImportanceMatrix matrix(Map<String, float[]> sums) {
        TreeMap<String, ImportanceMatrix.Entry> entries = new TreeMap<>();
        sums.forEach((name, values) -> entries.put(name, new ImportanceMatrix.Entry(values, new long[] {64})));
        return new ImportanceMatrix(ImportanceMatrix.Form.GGUF, entries, List.of("text"), 1, 64);
    }

    @Test
    void everyQuantizedTensorNeedsARule() throws IOException {
        Recipe partial = Recipe.parse("file-type Q8_0\ntoken_embd.weight q8_0\n", "partial.recipe", "partial");
        try (ModelSource source = ModelSource.open(checkpoint, "tiny GLM-5")) {
            QuantizeException e = assertThrows(QuantizeException.class, () -> plan(source, partial));
            assertEquals("partial.recipe has no rule for tensor blk.0.attn_q_a.weight: end the recipe with a rule for every"
                    + " other tensor ('* q8_0')", e.getMessage());
        }
    }
}
