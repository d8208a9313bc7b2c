package glmj.llamacpp;

import glmj.generate.Session;
import glmj.gguf.GGUFFile;
import glmj.model.GlmDsaEngine;
import glmj.sampler.Sampler;
import glmj.sampler.SamplerSettings;
import glmj.testdata.FullWidthGlmDsa;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * glmj equals llama.cpp on GLM-5 at its real widths ({@link FullWidthGlmDsa}: 64 heads, 256 experts, the 154,880-row
 * output head, tensors of billions of weights at offsets far past 2^31 in a file of about 11.7 GB), with the tiny
 * models' measures: layer by layer from llama.cpp's inputs on both kernel backends ({@link GlmDsaMatchesLlamaTest}
 * explains the bound: it depends on the 8-bit roundings of a layer, not on its width), and the greedy continuation of
 * a prompt, whose first token must agree ({@link GreedyContinuationMatchesLlamaTest}). Four trunk blocks: two dense,
 * two MoE (so a MoE block reads another MoE block's output), and GLM-5's MTP block, which both engines load but do not
 * run. A 64-token prompt routes 512 tokens to 256 experts: about two each, so most experts run on one or two tokens.
 *
 * <p>Opt-in, as it writes the file (about a minute) and reads it several times: {@code -Dglmj.fullsize=true}, or
 * {@code scripts/test-fullsize}. The file is generated into {@code java.io.tmpdir} and deleted afterwards;
 * {@code -Dglmj.fullsize.model=FILE} runs on an existing file instead (kept).
 */
@EnabledIfSystemProperty(named = "glmj.fullsize", matches = "true")
class FullSizeMatchesLlamaTest extends QuantizedLayerByLayerTests {
    private static final FullWidthGlmDsa.Layers LAYERS = new FullWidthGlmDsa.Layers(4, 2, 1);
    private static final int N_CTX = 128;
    private static final int PROMPT = 64;
    private static final int DECODE_STEPS = 8;
    private static final int GREEDY_STEPS = 16;
    private static final int THREADS = 2;
    private static final String PROMPT_TEXT = "The quick brown fox jumps over the lazy dog, and then";

    private static Path file;
    private static boolean generated;

    @BeforeAll
    static void writeModel() throws IOException {
        Oracle.library();
        String given = System.getProperty("glmj.fullsize.model", "");
        if (!given.isEmpty()) {
            file = Path.of(given);
            return;
        }
        file = Files.createTempFile("glmj-fullsize-", ".gguf");
        generated = true;
        long start = System.nanoTime();
        FullWidthGlmDsa.write(file, LAYERS, 0);
        System.out.printf("generated %s (%.2f GB) in %.1f s%n", file, Files.size(file) / 1e9, (System.nanoTime() - start) / 1e9);
    }

    @AfterAll
    static void deleteModel() throws IOException {
        if (generated) {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void isGlm5AtItsRealWidthsInAFileOfMoreThanEightGigabytes() throws IOException {
        assertTrue(Files.size(file) > 8e9, file + " has " + Files.size(file) + " bytes");
        try (LlamaModel llama = LlamaModel.loadVocabOnly(file); GGUFFile gguf = GGUFFile.open(file)) {
            assertEquals(FullWidthGlmDsa.VOCABULARY_SIZE, llama.vocabularySize());
            assertEquals(6144, gguf.metadata().getInt("glm-dsa.embedding_length"));
            assertTrue(gguf.tensor("blk.3.ffn_gate_exps.weight").byteSize() > 900_000_000L);
            assertTrue(gguf.tensor("output.weight").fileOffset() > 1L << 33, "the output head lies past 8 GiB");
        }
    }

    /**
     * The greedy continuation starts with llama.cpp's token; the rest is reported (in a quantized model 8-bit rounding
     * flips, which both engines make at different places, accumulate in the caches: see
     * {@link GreedyContinuationMatchesLlamaTest}).
     */
    @Test
    void greedyContinuationStartsAsLlamaDoes() throws IOException {
        int[] prompt;
        try (GGUFFile gguf = GGUFFile.open(file)) {
            prompt = Tokenizer.fromGGUF(gguf.metadata()).encode(PROMPT_TEXT, true, false);
        }
        float[] llamaFirst;
        int[] expected;
        try (LlamaEngine llamaEngine = new LlamaEngine(List.of(file), N_CTX, PROMPT, THREADS, true);
             Session llama = llamaEngine.newSession()) {
            llamaFirst = llama.forward(prompt, 0, prompt.length).clone();
            expected = greedy(llama, llamaFirst);
        }
        float[] oursFirst;
        int[] actual;
        try (GlmDsaEngine ourEngine = GlmDsaEngine.open(file, N_CTX, PROMPT, THREADS); Session ours = ourEngine.newSession()) {
            oursFirst = ours.forward(prompt, 0, prompt.length).clone();
            actual = greedy(ours, oursFirst);
        }
        int agreeing = 0;
        while (agreeing < GREEDY_STEPS && expected[agreeing] == actual[agreeing]) {
            agreeing++;
        }
        System.out.printf("%s: prompt of %d tokens, first logits max|d| %.4f, %d/%d greedy tokens agree%n  llama.cpp %s%n"
                        + "  glmj      %s%n", file.getFileName(), prompt.length, LayerByLayer.maxAbsDifference(llamaFirst, oursFirst),
                agreeing, GREEDY_STEPS, Arrays.toString(expected), Arrays.toString(actual));
        assertEquals(expected[0], actual[0], "the token after the prompt");
    }

    @Override
    LayerByLayer.Run run() throws IOException {
        return LayerByLayer.Run.of(file, N_CTX, PROMPT, DECODE_STEPS, FullWidthGlmDsa.VOCABULARY_SIZE, 42);
    }

    /** The greedy continuation after the prompt's logits {@code first}, one token per decode call. */
    private static int[] greedy(Session model, float[] first) {
        Sampler sampler = new Sampler(SamplerSettings.greedy(), model.vocabularySize());
        int[] tokens = new int[GREEDY_STEPS];
        float[] logits = first;
        for (int i = 0; i < GREEDY_STEPS; i++) {
            tokens[i] = sampler.sample(logits);
            if (i + 1 < GREEDY_STEPS) {
                logits = model.forward(tokens, i, 1);
            }
        }
        return tokens;
    }
}
