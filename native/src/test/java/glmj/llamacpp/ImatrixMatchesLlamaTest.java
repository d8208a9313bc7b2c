package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.gguf.TensorInfo;
import glmj.quant.imatrix.ImatrixFiles;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.quant.imatrix.ImportanceMatrix.Entry;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.quantize.Quantizer;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * glmj's importance matrices against llama.cpp's tools, on an importance matrix llama-imatrix collects from the
 * tiny F32 GLM-5 (MoE layers of 8 experts): glmj reads its GGUF and .dat files and writes them back byte for byte,
 * converts between the formats as llama-imatrix does, llama-quantize gives the same model from glmj's files as from
 * llama-imatrix's, and every tensor llama-quantize writes with the importance (Q2_K, Q4_K, IQ2_XXS with their
 * fallbacks, Q8_0, F32) is what glmj's quantizers write given the importance glmj derives from the file.
 */
class ImatrixMatchesLlamaTest {

    /** Tokens per chunk; llama-imatrix needs two chunks of text at least. */
    private static final int CHUNK = 64;

    @TempDir
    static Path directory;

    private static Path model;
    private static Path llamaGguf;
    private static Path llamaDat;

    @BeforeAll
    static void collectWithLlamaImatrix() throws IOException, InterruptedException {
        Oracle.library();
        model = TestModels.tinyF32();
        Path text = directory.resolve("calibration.txt");
        Files.writeString(text, calibrationText());
        llamaGguf = directory.resolve("llama-imatrix.gguf");
        llamaDat = directory.resolve("llama-imatrix.dat");
        LlamaTool.run("llama-imatrix", directory.resolve("imatrix.log"), "-m", model.toString(), "-f", text.toString(),
                "-c", String.valueOf(CHUNK), "-t", "2", "--no-ppl", "-o", llamaGguf.toString());
        // llama-imatrix's own conversion writes what it writes when it collects with --output-format dat
        LlamaTool.run("llama-imatrix", directory.resolve("to-dat.log"), "-m", model.toString(), "--in-file",
                llamaGguf.toString(), "-c", String.valueOf(CHUNK), "-o", llamaDat.toString(), "--output-format", "dat");
    }

    /** About 1000 tokens of English-like words, the same every run. */
    private static String calibrationText() {
        String[] words = ("the model reads every weight of each expert while a router picks which of them see the token "
                + "and quantization keeps two bits for most of them but more for attention and the shared expert "
                + "so that the file fits in the memory of one machine").split(" ");
        StringBuilder text = new StringBuilder();
        java.util.SplittableRandom random = new java.util.SplittableRandom(17);
        for (int i = 0; i < 1000; i++) {
            text.append(words[random.nextInt(words.length)]).append(i % 13 == 12 ? ".\n" : " ");
        }
        return text.toString();
    }

    @Test
    void readsLlamaFilesAndWritesThemBackByteForByte() throws IOException {
        ImportanceMatrix gguf = ImatrixFiles.read(llamaGguf);
        assertEquals(ImportanceMatrix.Form.GGUF, gguf.form());
        assertEquals(CHUNK, gguf.chunkSize());
        assertTrue(gguf.chunkCount() >= 2, "chunks: " + gguf.chunkCount());
        Entry experts = gguf.entries().get("blk.1.ffn_gate_exps.weight");
        assertEquals(8, experts.matrices(), "one count per expert");
        Path again = directory.resolve("glmj.gguf");
        ImatrixFiles.write(gguf, again);
        assertEquals(-1, Files.mismatch(llamaGguf, again));

        ImportanceMatrix dat = ImatrixFiles.read(llamaDat);
        assertEquals(ImportanceMatrix.Form.LEGACY, dat.form());
        Path datAgain = directory.resolve("glmj.dat");
        ImatrixFiles.write(dat, datAgain);
        assertEquals(-1, Files.mismatch(llamaDat, datAgain));
    }

    @Test
    void convertsBetweenTheFormatsAsLlamaImatrixDoes() throws IOException, InterruptedException {
        Path glmjDat = directory.resolve("converted-by-glmj.dat");
        ImatrixFiles.write(ImatrixFiles.read(llamaGguf).inLegacyForm(), glmjDat);
        assertEquals(-1, Files.mismatch(llamaDat, glmjDat), "GGUF to .dat");

        Path llamaFromDat = directory.resolve("converted-by-llama.gguf");
        LlamaTool.run("llama-imatrix", directory.resolve("to-gguf.log"), "-m", model.toString(), "--in-file",
                llamaDat.toString(), "-c", String.valueOf(CHUNK), "-o", llamaFromDat.toString());
        Path glmjFromDat = directory.resolve("converted-by-glmj.gguf");
        ImatrixFiles.write(ImatrixFiles.read(llamaDat).inGgufForm(CHUNK), glmjFromDat);
        assertEquals(-1, Files.mismatch(llamaFromDat, glmjFromDat), ".dat to GGUF");
    }

    /** Q2_K from the GGUF file: llama-quantize writes the same from glmj's copy, and glmj writes every tensor alike. */
    @Test
    void q2_KFromTheGgufFile() throws IOException, InterruptedException {
        Path input = directory.resolve("q2k/imatrix.gguf");
        Files.createDirectories(input.getParent());
        Files.copy(llamaGguf, input);
        Path fromLlama = quantize(input, "Q2_K", "q2k-llama");
        ImportanceMatrix matrix = ImatrixFiles.read(llamaGguf);
        ImatrixFiles.write(matrix, input);
        Path fromGlmj = quantize(input, "Q2_K", "q2k-glmj");
        assertEquals(-1, Files.mismatch(fromLlama, fromGlmj), "llama-quantize with glmj's imatrix file");
        assertTensorsMatch(fromLlama, matrix, GGMLType.Q2_K);
    }

    /** Q4_K from the .dat file: glmj's conversion of the GGUF file gives llama-quantize what llama-imatrix's .dat does. */
    @Test
    void q4_KFromTheLegacyFile() throws IOException, InterruptedException {
        Path input = directory.resolve("q4k/imatrix.dat");
        Files.createDirectories(input.getParent());
        Files.copy(llamaDat, input);
        Path fromLlama = quantize(input, "Q4_K_M", "q4k-llama");
        ImportanceMatrix converted = ImatrixFiles.read(llamaGguf).inLegacyForm();
        ImatrixFiles.write(converted, input);
        Path fromGlmj = quantize(input, "Q4_K_M", "q4k-glmj");
        assertEquals(-1, Files.mismatch(fromLlama, fromGlmj), "llama-quantize with glmj's .dat");
        assertTensorsMatch(fromLlama, ImatrixFiles.read(input), GGMLType.Q4_K);
    }

    /**
     * IQ2_XXS with experts that never fired: glmj writes a GGUF file in which two experts of every MoE tensor of
     * layer 1 have no activations (counts 0, as llama-imatrix leaves them); llama-quantize and glmj both give those
     * experts importance 1 everywhere.
     */
    @Test
    void iq2_XXSWithExpertsThatNeverFired() throws IOException, InterruptedException {
        ImportanceMatrix collected = ImatrixFiles.read(llamaGguf);
        SortedMap<String, Entry> entries = new TreeMap<>(collected.entries());
        int silenced = 0;
        for (var e : collected.entries().entrySet()) {
            if (e.getKey().startsWith("blk.1.") && e.getValue().matrices() == 8) {
                float[] sums = e.getValue().sums().clone();
                long[] counts = e.getValue().counts().clone();
                int columns = e.getValue().columns();
                for (int expert : new int[] {2, 5}) {
                    counts[expert] = 0;
                    Arrays.fill(sums, expert * columns, (expert + 1) * columns, 0f);
                }
                entries.put(e.getKey(), new Entry(sums, counts));
                silenced++;
            }
        }
        assertEquals(3, silenced, "gate, up and down experts of layer 1");
        ImportanceMatrix matrix = new ImportanceMatrix(ImportanceMatrix.Form.GGUF, entries, collected.datasets(),
                collected.chunkCount(), collected.chunkSize());
        Path input = directory.resolve("iq2xxs/imatrix.gguf");
        Files.createDirectories(input.getParent());
        ImatrixFiles.write(matrix, input);
        Path quantized = quantize(input, "IQ2_XXS", "iq2xxs");
        assertTensorsMatch(quantized, ImatrixFiles.read(input), GGMLType.IQ2_XXS);
    }

    /** llama-quantize {@code --pure} to {@code ftype}, output and embeddings at Q8_0, on two threads. */
    private static Path quantize(Path imatrix, String ftype, String name) throws IOException, InterruptedException {
        Path output = directory.resolve(name + ".gguf");
        LlamaTool.run("llama-quantize", directory.resolve(name + ".log"), "--pure", "--imatrix", imatrix.toString(),
                "--output-tensor-type", "q8_0", "--token-embedding-type", "q8_0", model.toString(), output.toString(),
                ftype, "2");
        return output;
    }

    /**
     * Every tensor of {@code quantized} is what glmj's quantizer of its type writes from the F32 model's weights,
     * each expert with its slice of {@code matrix}'s importance; at least one has type {@code main}.
     */
    private static void assertTensorsMatch(Path quantized, ImportanceMatrix matrix, GGMLType main) throws IOException {
        int compared = 0;
        int withImportance = 0;
        int ofMainType = 0;
        try (GGUFFile source = GGUFFile.open(model); GGUFFile written = GGUFFile.open(quantized); Arena arena = Arena.ofConfined()) {
            for (TensorInfo tensor : written.tensors()) {
                TensorInfo original = source.tensor(tensor.name());
                GGMLType type = tensor.type();
                if (type == GGMLType.F32) {
                    assertEquals(-1, original.data().mismatch(tensor.data()), tensor.name());
                    compared++;
                    continue;
                }
                int columns = (int) tensor.dim(0);
                int rows = (int) tensor.dim(1);
                int experts = tensor.dimensionCount() > 2 ? (int) tensor.dim(2) : 1;
                float[][] importance = matrix.importance(tensor.name(), columns, experts);
                long rowBytes = type.byteSize(columns);
                int rowsPerChunk = Math.max(1, (1 << 20) / columns);
                float[] weights = new float[rowsPerChunk * columns];
                MemorySegment expected = arena.allocate(rowsPerChunk * rowBytes);
                for (int expert = 0; expert < experts; expert++) {
                    for (int row = 0; row < rows; row += rowsPerChunk) {
                        int count = Math.min(rowsPerChunk, rows - row);
                        long globalRow = (long) expert * rows + row;
                        MemorySegment.copy(original.data(), LittleEndian.FLOAT, globalRow * columns * 4, weights, 0, count * columns);
                        Quantizer.quantize(type, weights, 0, count, columns, importance == null ? null : importance[expert],
                                expected, 0);
                        MemorySegment actual = tensor.data().asSlice(globalRow * rowBytes, count * rowBytes);
                        long mismatch = expected.asSlice(0, count * rowBytes).mismatch(actual);
                        if (mismatch >= 0) {
                            fail(tensor.name() + " (" + type.ggmlName + (importance == null ? "" : ", with importance")
                                    + ") differs in expert " + expert + ", row " + (row + mismatch / rowBytes));
                        }
                    }
                }
                compared++;
                withImportance += importance != null ? 1 : 0;
                ofMainType += type == main ? 1 : 0;
            }
        }
        assertEquals(written(quantized), compared);
        assertTrue(withImportance >= 20, withImportance + " tensors had importance");
        assertTrue(ofMainType >= 10, ofMainType + " tensors of " + main.ggmlName);
    }

    private static int written(Path quantized) throws IOException {
        try (GGUFFile file = GGUFFile.open(quantized)) {
            return file.tensors().size();
        }
    }
}
