package glmj.llamacpp;

import glmj.convert.CheckpointConverter;
import glmj.convert.OutputType;
import glmj.gguf.GGUFFile;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.hf.HfCheckpoint;
import glmj.generate.Session;
import glmj.model.GlmDsaEngine;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsaCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * glmj's checkpoint converter writes what llama.cpp's {@code convert_hf_to_gguf.py} writes: on the tiny GLM-5 FP8
 * checkpoint (FP8 block scales with partial edge blocks, BF16 and F32 tensors, two shards, an MTP layer), converted by
 * both at F32 and BF16 (Q8_0 and F16 too, when run by hand: llama.cpp's converter takes two minutes for Q8_0 here), the two files hold the same tensors (names, types, shapes, bytes) and the same metadata,
 * but for two keys the converter derives differently:
 * <ul>
 * <li>{@code general.name}: llama.cpp makes it from the directory name by heuristics ({@code tiny-glm-dsa-fp8-checkpoint}
 * becomes "Tiny Glm Dsa Fp8 Checkpoint"); glmj writes the name it is given.</li>
 * <li>{@code tokenizer.ggml.pre}: llama.cpp names the pre-tokenizer by hashing how the tokenizer splits a test text;
 * the test vocabulary is Qwen2's, whose tokens hold single digits, so GLM's split into runs of three digits gives
 * Qwen2's tokens and hash, and llama.cpp writes {@code qwen2}. glmj names it from tokenizer.json's split regex, which is
 * GLM's: {@code glm4}. On this vocabulary both split every text the same way.</li>
 * </ul>
 * llama.cpp then loads and runs glmj's F32 file, and glmj's engine gives llama.cpp's logits on it.
 */
class ConverterMatchesLlamaTest {
    private static final List<String> KEYS_DERIVED_DIFFERENTLY = List.of("general.name", "tokenizer.ggml.pre");
    @TempDir
    static Path dir;

    @ParameterizedTest
    @EnumSource(value = OutputType.class, names = {"F32", "BF16"})
    void glmjWritesWhatLlamaCppsConverterWrites(OutputType type) throws Exception {
        Path python = Oracle.converterPython();
        Path checkpoint = TestModels.tinyCheckpoint();
        Path theirs = dir.resolve("llama-" + type + ".gguf");
        runLlamaConverter(python, checkpoint, type, theirs);
        Path ours = dir.resolve("glmj-" + type + ".gguf");
        try (HfCheckpoint c = HfCheckpoint.open(checkpoint)) {
            CheckpointConverter.convert(c, ours, type, "tiny GLM-5");
        }
        try (GGUFFile expected = GGUFFile.open(theirs); GGUFFile actual = GGUFFile.open(ours)) {
            assertEquals(names(expected), names(actual), "tensor names");
            assertEquals(TinyGlmDsaCheckpoint.LAYER_COUNT + TinyGlmDsaCheckpoint.NEXTN_LAYERS,
                    actual.metadata().getInt("glm-dsa.block_count"));
            for (TensorInfo t : expected.tensors()) {
                TensorInfo a = actual.tensor(t.name());
                assertEquals(t.type(), a.type(), t.name());
                assertEquals(Arrays.toString(t.shape()), Arrays.toString(a.shape()), t.name());
                assertEquals(-1, t.data().mismatch(a.data()), () -> t.name() + ": bytes differ");
            }
            Metadata e = expected.metadata();
            Metadata m = actual.metadata();
            TreeSet<String> keys = new TreeSet<>(e.keys());
            keys.addAll(m.keys());
            List<String> differing = new ArrayList<>();
            for (String key : keys) {
                boolean same = e.has(key) && m.has(key) && e.type(key) == m.type(key)
                        && (!e.type(key).name().equals("ARRAY") || e.arrayElementType(key) == m.arrayElementType(key))
                        && Objects.deepEquals(e.get(key), m.get(key));
                if (!same) {
                    differing.add(key);
                }
            }
            assertEquals(KEYS_DERIVED_DIFFERENTLY, differing, "metadata keys whose type or value differ");
            assertEquals("qwen2", e.getString("tokenizer.ggml.pre"));
            assertEquals("glm4", m.getString("tokenizer.ggml.pre"));
        }
    }

    @Test
    void llamaCppRunsTheConvertedFileAndGlmjGivesItsLogits() throws Exception {
        Path ours = dir.resolve("glmj-run-F32.gguf");
        try (HfCheckpoint c = HfCheckpoint.open(TestModels.tinyCheckpoint())) {
            CheckpointConverter.convert(c, ours, OutputType.F32, "tiny GLM-5");
        }
        String prompt = "[gMASK]<sop><|user|>Convert the checkpoint, then count the tensors of every layer twice over."
                + "<|assistant|><think>";
        int[] tokens;
        float[] expected;
        try (LlamaModel model = LlamaModel.load(ours)) {
            assertEquals(TinyGlmDsaCheckpoint.LAYER_COUNT, model.layerCount(), "the trunk, without the MTP layer");
            assertEquals(TinyGlmDsaCheckpoint.EMBEDDING_LENGTH, model.embeddingLength());
            assertEquals(TinyGlmDsaCheckpoint.VOCABULARY_SIZE, model.vocabularySize());
            tokens = model.tokenize(prompt, true, true);
            assertTrue(tokens.length > 16, "more tokens than the indexer's top-k: " + tokens.length);
            try (LlamaModel.Context context = model.context(256, 256, 2)) {
                context.decode(tokens, false);
                expected = context.logits(-1);
            }
            assertTrue(!LlamaModel.log().contains("missing tensor"), LlamaModel::log);
        }
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float logit : expected) {
            assertTrue(Float.isFinite(logit));
            min = Math.min(min, logit);
            max = Math.max(max, logit);
        }
        assertTrue(max - min > 1, "varied logits: " + min + " to " + max);
        try (GlmDsaEngine engine = GlmDsaEngine.open(ours, 256, 256, 2); Session session = engine.newSession()) {
            float[] actual = session.forward(tokens, 0, tokens.length);
            float worst = 0;
            for (int i = 0; i < expected.length; i++) {
                worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            }
            System.out.printf("converted tiny GLM-5: %d tokens, logits in [%.3f, %.3f], glmj within %.2g of llama.cpp%n",
                    tokens.length, min, max, worst);
            // the bound of GlmDsaMatchesLlamaTest for F32 weights: float summation order only
            assertTrue(worst < 0.02f, "glmj's logits differ from llama.cpp's by " + worst);
        }
    }

    private static List<String> names(GGUFFile file) {
        return file.tensors().stream().map(TensorInfo::name).sorted().toList();
    }

    /** Runs llama.cpp's converter; its output is the failure message when it fails. */
    private static void runLlamaConverter(Path python, Path checkpoint, OutputType type, Path out) throws Exception {
        Path script = Oracle.source("convert_hf_to_gguf.py");
        Path log = dir.resolve("convert-" + type + ".log");
        Process process = new ProcessBuilder(python.toString(), script.toString(), checkpoint.toString(),
                "--outtype", type.name().toLowerCase(java.util.Locale.ROOT), "--outfile", out.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("llama.cpp's converter took more than 10 minutes");
        }
        if (process.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            throw new AssertionError("llama.cpp's converter failed:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
        }
    }
}
