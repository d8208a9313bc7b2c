package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.gguf.TensorInfo;
import glmj.quant.imatrix.ImatrixFiles;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.quant.imatrix.ImportanceMatrix.Entry;
import glmj.quant.imatrix.ImportanceRun;
import glmj.quant.LayerLayout;
import glmj.quant.Recipe;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * glmj imatrix collects what llama-imatrix collects: on the tiny F32 GLM-5 with the same text and chunks of 64 tokens,
 * the same entries, the same counts (one per dense weight, one per expert for the routed experts) and sums of squares
 * that agree to float noise.
 *
 * <p>llama-imatrix runs here with {@code -b 64}, each chunk a batch of its own, as glmj runs them. By default it
 * batches 2048 / 64 chunks as parallel sequences and splits each batch into micro-batches holding an equal share of
 * every sequence; attn_v_b's matmul runs per sequence there, and llama-imatrix leaves out matmuls of fewer than 16
 * rows, so the last batch's 19 sequences in shares of 12 tokens leave 228 of attn_v_b's 3264 rows uncounted: an
 * artifact of its batching that glmj does not reproduce.
 *
 * <p>Tolerance. The inputs of a layer's matmuls come from the residual stream after the layers before, which glmj's
 * prompt computes from llama.cpp's by float rounding only; GlmDsaMatchesLlamaTest bounds each layer's difference from
 * llama.cpp's by 2^-11 of its update (the f16 KV cache's rounding, decorrelated), and run freely the differences add
 * up layer after layer. A sum of squares moves by twice its inputs' relative difference, so the sums of layer l's
 * matrices may differ by 2 * 2^-11 per layer up to and including l, plus one for the attention inside it: a relative
 * L2 difference of 2^-10 (l + 2). The down projections' inputs are SwiGLU products, silu(gate x) (up x): their
 * relative difference is gate's plus up's plus silu's slope's, and their squares concentrate on the few largest
 * products, so they get four times that. Measured: 3e-7 in layer 0, 8e-4 in layer 1, 1e-3 (inputs) and 9.5e-3 (a
 * down projection) in layer 2, 2.9e-3 and 1.1e-2 in layer 3. A mistake in what is collected (a tensor's rows left
 * out, as llama-imatrix's own batching leaves 7% of attn_v_b's, or a wrong column or expert) moves sums by 10% or
 * more. A router near-tie that float noise decides could move a token from one expert to another; the test allows up
 * to two such moves per tensor, leaving those experts' sums out (none happen here).
 */
class ImatrixCollectionMatchesLlamaTest {
    private static final int CHUNK = 64;

    @TempDir
    static Path dir;
    private static Path model;
    private static Path text;
    private static ImportanceMatrix llama;
    private static ImportanceMatrix glmj;

    @BeforeAll
    static void collectWithBoth() throws IOException, InterruptedException {
        Oracle.library();
        model = TestModels.tinyF32();
        text = dir.resolve("calibration.txt");
        Files.writeString(text, ImatrixMatchesLlamaTest.calibrationText());
        Path llamaFile = dir.resolve("llama-imatrix.gguf");
        LlamaTool.run("llama-imatrix", dir.resolve("imatrix.log"), "-m", model.toString(), "-f", text.toString(),
                "-c", String.valueOf(CHUNK), "-b", String.valueOf(CHUNK), "-t", "2", "--no-ppl", "-o", llamaFile.toString());
        llama = ImatrixFiles.read(llamaFile);
        try (GGUFFile gguf = GGUFFile.open(model); GgmlKernels kernels = new GgmlKernels(2)) {
            int[] tokens = ImportanceRun.tokens(gguf, Files.readString(text), false);
            glmj = ImportanceRun.collect(gguf, kernels, tokens, text.toString(),
                    new ImportanceRun.Settings(CHUNK, -1, false, false), (done, total, collected) -> { });
        }
    }

    @Test
    void sameEntriesCountsAndSums() {
        assertEquals(llama.entries().keySet(), glmj.entries().keySet());
        assertEquals(llama.chunkCount(), glmj.chunkCount());
        assertEquals(llama.chunkSize(), glmj.chunkSize());
        assertEquals(llama.datasets(), glmj.datasets());
        int moved = 0;
        double worst = 0;
        java.util.List<String> beyond = new java.util.ArrayList<>();
        for (var e : llama.entries().entrySet()) {
            String name = e.getKey();
            Entry expected = e.getValue();
            Entry actual = glmj.entries().get(name);
            assertEquals(expected.matrices(), actual.matrices(), name);
            assertEquals(Arrays.stream(expected.counts()).sum(), Arrays.stream(actual.counts()).sum(), name + ": rows in all");
            long difference = 0;
            for (int m = 0; m < expected.matrices(); m++) {
                difference += Math.abs(expected.counts()[m] - actual.counts()[m]);
            }
            assertTrue(difference <= 4, name + ": counts " + Arrays.toString(expected.counts()) + " and "
                    + Arrays.toString(actual.counts()));
            moved += (int) (difference / 2);
            int layer = LayerLayout.layerOf(name);
            double bound = 0x1p-10 * (layer + 2) * (name.contains("ffn_down") ? 4 : 1);
            int columns = expected.columns();
            for (int m = 0; m < expected.matrices(); m++) {
                if (expected.counts()[m] != actual.counts()[m]) {
                    continue;
                }
                double diff = 0;
                double norm = 0;
                for (int j = m * columns; j < (m + 1) * columns; j++) {
                    double d = expected.sums()[j] - actual.sums()[j];
                    diff += d * d;
                    norm += (double) expected.sums()[j] * expected.sums()[j];
                }
                double relative = Math.sqrt(diff / norm);
                worst = Math.max(worst, relative);
                if (relative > bound) {
                    beyond.add(name + " matrix " + m + ": " + relative + " > " + bound);
                }
            }
        }
        System.out.printf("glmj imatrix vs llama-imatrix: %d entries, worst relative difference %.2g, %d routed rows moved%n",
                llama.entries().size(), worst, moved);
        assertEquals(java.util.List.of(), beyond, "relative differences beyond the bound");
        assertEquals(8, llama.entries().get("blk.1.ffn_gate_exps.weight").matrices(), "a count per expert");
    }

    /** llama-quantize takes glmj's file, and writes with it what glmj quantize writes with it. */
    @Test
    void llamaQuantizeAcceptsGlmjsFile() throws IOException, InterruptedException {
        Path file = dir.resolve("glmj-imatrix.gguf");
        ImatrixFiles.write(glmj, file);
        Path theirs = dir.resolve("llama-IQ2_XXS.gguf");
        LlamaTool.run("llama-quantize", dir.resolve("quantize.log"), "--pure", "--imatrix", file.toString(),
                "--output-tensor-type", "q8_0", "--token-embedding-type", "q8_0", model.toString(), theirs.toString(), "IQ2_XXS", "2");
        Path ours = dir.resolve("glmj-IQ2_XXS.gguf");
        QuantizeMatchesLlamaTest.quantize(model, Recipe.parse("file-type IQ2_XXS\ntoken_embd.weight q8_0\n"
                + "output.weight q8_0\n* iq2_xxs\n", "pure IQ2_XXS", "pure IQ2_XXS"), file, ours, 0);
        try (GGUFFile e = GGUFFile.open(theirs); GGUFFile a = GGUFFile.open(ours)) {
            assertEquals(e.tensors().size(), a.tensors().size());
            for (TensorInfo t : e.tensors()) {
                assertEquals(t.type(), a.tensor(t.name()).type(), t.name());
                assertEquals(-1, t.data().mismatch(a.tensor(t.name()).data()), t.name());
            }
            assertEquals(file.toString(), e.metadata().getString("quantize.imatrix.file"));
            assertEquals(glmj.entries().size(), e.metadata().getInt("quantize.imatrix.entries_count"));
        }
    }
}
