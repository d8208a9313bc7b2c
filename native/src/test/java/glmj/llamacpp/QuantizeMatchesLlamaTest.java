package glmj.llamacpp;

import glmj.generate.Session;
import glmj.gguf.GGUFFile;
import glmj.gguf.TensorInfo;
import glmj.model.GlmDsaEngine;
import glmj.quant.LayerLayout;
import glmj.quant.ModelSource;
import glmj.quant.ModelWriter;
import glmj.quant.QuantizationPlan;
import glmj.quant.Recipe;
import glmj.quant.Recipes;
import glmj.quant.imatrix.ImatrixFiles;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.tensor.GGMLType;
import glmj.testdata.BenchGlmDsa;
import glmj.testdata.TestModels;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * glmj quantize against llama.cpp's tools, from the tiny GLM-5 FP8 checkpoint (3 blocks and an MTP block, 8 experts,
 * rows of 576 that fall back) and the bench model's checkpoint at test size (64 experts):
 * <ul>
 *   <li>llama.cpp's converter makes the F32 GGUF of the checkpoint once (about two minutes) and llama-imatrix collects
 *   an importance matrix from it; llama-quantize then writes Q2_K, Q4_K and IQ2_XXS from that file with the matrix,
 *   and glmj, quantizing the checkpoint itself with the same matrix, writes every tensor byte for byte alike;</li>
 *   <li>the dynamic Q2_K_XL recipe's file loads in llama.cpp, and fed one token at a time llama.cpp and glmj (on ggml's
 *   kernels) give the same logits;</li>
 *   <li>the Q4_K_M and Q8_0 recipes choose what llama-quantize's Q4_K_M and Q8_0 choose for glm-dsa, byte for byte;</li>
 *   <li>requantizing an Unsloth-style mix gives what llama-quantize --allow-requantize gives;</li>
 *   <li>a split set is what llama-gguf-split --split-max-size makes of the single file, byte for byte.</li>
 * </ul>
 */
class QuantizeMatchesLlamaTest {
    private static final int THREADS = 2;
    /** llama-imatrix's chunk size here: the calibration text makes about 15 chunks. */
    private static final int CHUNK = 64;

    @TempDir
    static Path dir;
    private static Path checkpoint;
    private static Path llamaF32;
    private static Path imatrix;

    @BeforeAll
    static void convertWithLlamaCppAndCollectImportance() throws Exception {
        Oracle.library();
        checkpoint = TestModels.tinyCheckpoint();
        llamaF32 = dir.resolve("llama-f32.gguf");
        LlamaConverter.convert(checkpoint, "f32", llamaF32, dir.resolve("convert.log"));
        Path text = dir.resolve("calibration.txt");
        Files.writeString(text, ImatrixMatchesLlamaTest.calibrationText());
        imatrix = dir.resolve("imatrix.gguf");
        LlamaTool.run("llama-imatrix", dir.resolve("imatrix.log"), "-m", llamaF32.toString(), "-f", text.toString(),
                "-c", String.valueOf(CHUNK), "-t", String.valueOf(THREADS), "--no-ppl", "-o", imatrix.toString());
    }

    /**
     * llama-quantize {@code --pure} at {@code ftype} with the importance matrix, output head and embeddings Q8_0, and
     * glmj with the recipe that says the same, from the checkpoint: the same tensors, byte for byte. The MTP block,
     * which llama-imatrix does not run, is Q8_0 in both for IQ2_XXS, which needs importance.
     */
    @ParameterizedTest
    @CsvSource({"Q2_K, q2_K, 40", "Q4_K_M, q4_K, 40", "IQ2_XXS, iq2_xxs, 30"})
    void quantizedTensorsAreLlamaQuantizesByteForByte(String ftype, String type, int atLeast) throws Exception {
        boolean mtpAside = type.equals("iq2_xxs");
        Path theirs = dir.resolve("llama-" + ftype + ".gguf");
        List<String> arguments = new ArrayList<>(List.of("--pure", "--imatrix", imatrix.toString(), "--output-tensor-type", "q8_0",
                "--token-embedding-type", "q8_0"));
        if (mtpAside) {
            arguments.addAll(List.of("--tensor-type", "blk\\.3\\.=q8_0"));
        }
        arguments.addAll(List.of(llamaF32.toString(), theirs.toString(), ftype, String.valueOf(THREADS)));
        LlamaTool.run("llama-quantize", dir.resolve("quantize-" + ftype + ".log"), arguments.toArray(String[]::new));

        Recipe recipe = Recipe.parse("file-type " + ftype + "\ntoken_embd.weight q8_0\noutput.weight q8_0\n"
                + (mtpAside ? "blk.3.* q8_0\n" : "") + "* " + type + "\n", "pure " + ftype, "pure " + ftype);
        Path ours = dir.resolve("glmj-" + ftype + ".gguf");
        quantize(checkpoint, recipe, imatrix, ours);

        GGMLType main = GGMLType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
        int ofMainType = assertSameTensors(theirs, ours);
        assertTrue(ofMainType >= atLeast, ofMainType + " tensors of " + main.ggmlName);
    }

    /** Every tensor of {@code expected} is in {@code actual} with the same type, shape and bytes, and no other; returns how many are of the most common quantized type. */
    private static int assertSameTensors(Path expected, Path actual) throws IOException {
        Map<GGMLType, Integer> types = new TreeMap<>();
        try (GGUFFile e = GGUFFile.open(expected); GGUFFile a = GGUFFile.open(actual)) {
            assertEquals(names(e), names(a), "tensor names");
            for (TensorInfo t : e.tensors()) {
                TensorInfo o = a.tensor(t.name());
                assertEquals(t.type(), o.type(), t.name());
                assertArrayEquals(t.shape(), o.shape(), t.name());
                assertEquals(-1, t.data().mismatch(o.data()), () -> t.name() + " (" + t.type().ggmlName + "): bytes differ");
                types.merge(t.type(), 1, Integer::sum);
            }
            assertEquals(e.metadata().getInt("general.file_type"), a.metadata().getInt("general.file_type"));
        }
        types.remove(GGMLType.F32);
        System.out.printf("%s and %s: %s%n", expected.getFileName(), actual.getFileName(), types);
        return types.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    private static List<String> names(GGUFFile file) {
        return file.tensors().stream().map(TensorInfo::name).sorted().toList();
    }

    /** glmj quantize, as the command runs it. */
    static List<Path> quantize(Path from, Recipe recipe, Path importanceFile, Path out, long maxShardBytes) throws IOException {
        ImportanceMatrix importance = importanceFile == null ? null : ImatrixFiles.read(importanceFile);
        try (ModelSource source = ModelSource.open(from, null)) {
            QuantizationPlan plan = QuantizationPlan.of(recipe, source.tensors(),
                    LayerLayout.of(source.metadata(recipe.fileType()).metadata(source.path())));
            plan.checkImportance(importance, String.valueOf(importanceFile));
            return new ModelWriter(source, plan, importance, String.valueOf(importanceFile))
                    .write(out, maxShardBytes, THREADS, ModelWriter.Progress.NONE);
        }
    }

    private static void quantize(Path from, Recipe recipe, Path importanceFile, Path out) throws IOException {
        quantize(from, recipe, importanceFile, out, 0);
    }

    /**
     * The dynamic recipe's file (IQ2_XXS and Q2_K to Q8_0 with the fallbacks Q5_0 and Q4_0) loads in llama.cpp, and
     * fed a prompt one token at a time llama.cpp and glmj on ggml's kernels give the same logits at every step: each
     * matmul is ggml's vec_dot on the same activations, so a single token's step rounds alike.
     */
    @Test
    void theDynamicRecipesFileRunsInLlamaCppAsInGlmj() throws IOException {
        Path file = dir.resolve("glmj-Q2_K_XL.gguf");
        quantize(checkpoint, Recipes.resolve("Q2_K_XL"), imatrix, file);
        int[] prompt;
        try (GGUFFile gguf = GGUFFile.open(file)) {
            assertEquals(GGMLType.IQ2_XXS, gguf.tensor("blk.2.ffn_gate_exps.weight").type());
            assertEquals(GGMLType.Q5_0, gguf.tensor("blk.1.attn_q_b.weight").type(), "q4_K falls back for rows of 576");
            prompt = Tokenizer.fromGGUF(gguf.metadata()).encode("[gMASK]<sop><|user|>Quantize the experts to two bits"
                    + " and keep the attention at four.<|assistant|>", false, true);
        }
        assertTrue(prompt.length > 16, "more tokens than the indexer's top-k: " + prompt.length);
        List<float[]> expected = new ArrayList<>();
        try (LlamaEngine llama = new LlamaEngine(List.of(file), 128, 64, THREADS, true); Session s = llama.newSession()) {
            for (int i = 0; i < prompt.length; i++) {
                expected.add(s.forward(prompt, i, 1).clone());
            }
        }
        try (GlmDsaEngine glmj = GlmDsaEngine.of(GGUFFile.open(file), 128, 64, new GgmlKernels(THREADS)); Session s = glmj.newSession()) {
            for (int i = 0; i < prompt.length; i++) {
                float[] actual = s.forward(prompt, i, 1);
                float worst = 0;
                for (int v = 0; v < actual.length; v++) {
                    worst = Math.max(worst, Math.abs(actual[v] - expected.get(i)[v]));
                }
                System.out.printf("step %d: glmj within %.3g of llama.cpp%n", i, worst);
                assertArrayEquals(expected.get(i), actual, "the logits after token " + i);
            }
        }
    }

    /** The Q4_K_M and Q8_0 recipes are what llama-quantize's Q4_K_M and Q8_0 choose, on a model of 64 experts. */
    @ParameterizedTest
    @CsvSource({"Q4_K_M", "Q8_0"})
    void recipesChooseWhatLlamaQuantizeChooses(String ftype) throws Exception {
        Path bench = TestModels.benchCheckpoint(BenchGlmDsa.Scale.SMALL);
        Path f32 = dir.resolve("bench-f32.gguf");
        if (!Files.exists(f32)) {
            quantize(bench, Recipes.resolve("F32"), null, f32);
        }
        Path theirs = dir.resolve("bench-llama-" + ftype + ".gguf");
        LlamaTool.run("llama-quantize", dir.resolve("bench-" + ftype + ".log"), f32.toString(), theirs.toString(), ftype,
                String.valueOf(THREADS));
        Path ours = dir.resolve("bench-glmj-" + ftype + ".gguf");
        quantize(bench, Recipes.resolve(ftype), null, ours);
        assertSameTensors(theirs, ours);
        try (GGUFFile file = GGUFFile.open(ours)) {
            if (ftype.equals("Q4_K_M")) {
                assertEquals(GGMLType.Q6_K, file.tensor("blk.2.ffn_down_exps.weight").type(), "use_more_bits(2, 3)");
                assertEquals(GGMLType.Q4_K, file.tensor("blk.1.ffn_down_exps.weight").type());
            }
        }
    }

    /**
     * Requantizing what users download, an Unsloth-style UD-Q2_K_XL mix (the bench model at test size, 64 experts as
     * the Q4_K_M recipe assumes; llama-quantize treats models of exactly 8 experts apart): glmj's Q4_K_M of it is
     * llama-quantize --allow-requantize's, byte for byte (both dequantize, and copy a tensor whose type stays).
     */
    @Test
    void requantizingAnUnslothStyleMixIsLlamaQuantizes() throws Exception {
        Path mix = TestModels.benchModel(BenchGlmDsa.Scale.SMALL);
        Path theirs = dir.resolve("mix-llama-Q4_K_M.gguf");
        LlamaTool.run("llama-quantize", dir.resolve("mix-Q4_K_M.log"), "--allow-requantize", mix.toString(), theirs.toString(),
                "Q4_K_M", String.valueOf(THREADS));
        Path ours = dir.resolve("mix-glmj-Q4_K_M.gguf");
        quantize(mix, Recipes.resolve("Q4_K_M"), null, ours);
        assertSameTensors(theirs, ours);
    }

    /** The split set is llama-gguf-split's of the single file, file for file, byte for byte. */
    @Test
    void splitSetsAreLlamaGgufSplits() throws Exception {
        Recipe recipe = Recipes.resolve("Q4_K_M");
        Path single = dir.resolve("whole/tiny.gguf");
        Files.createDirectories(single.getParent());
        quantize(checkpoint, recipe, null, single);
        Path theirs = dir.resolve("llama-split/tiny");
        Files.createDirectories(theirs.getParent());
        LlamaTool.run("llama-gguf-split", dir.resolve("split.log"), "--split", "--split-max-size", "25M", single.toString(),
                theirs.toString());
        Path ours = dir.resolve("glmj-split/tiny.gguf");
        Files.createDirectories(ours.getParent());
        List<Path> shards = quantize(checkpoint, recipe, null, ours, 25_000_000);
        List<Path> expected;
        try (Stream<Path> files = Files.list(theirs.getParent())) {
            expected = files.sorted().toList();
        }
        assertEquals(expected.stream().map(Path::getFileName).toList(), shards.stream().map(Path::getFileName).toList());
        assertTrue(shards.size() >= 3, shards.toString());
        for (int i = 0; i < shards.size(); i++) {
            assertEquals(-1, Files.mismatch(expected.get(i), shards.get(i)), shards.get(i).getFileName().toString());
        }
        assertFalse(Files.exists(dir.resolve("glmj-split/tiny.gguf")));
    }
}
