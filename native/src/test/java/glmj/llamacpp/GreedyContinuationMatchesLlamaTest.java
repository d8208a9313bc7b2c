package glmj.llamacpp;

import glmj.generate.Session;
import glmj.gguf.GGUFFile;
import glmj.kernel.VectorKernels;
import glmj.model.GlmDsa;
import glmj.model.KvCache;
import glmj.model.GlmDsaEngine;
import glmj.model.LayerProbe;
import glmj.sampler.Sampler;
import glmj.sampler.SamplerSettings;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A greedy 64-token continuation is llama.cpp's, token for token: both engines take the same prompt tokens (our
 * tokenizer's) one at a time, then the most likely token, fed back, 64 times.
 *
 * <p>The tiny models' weights are random, so their discrete choices (router experts, indexer keys) and their logits
 * have near-ties that a last-bit difference can decide, and llama.cpp's single-token flash attention rounds the query
 * to f16 and sums V in f16, which magnifies last-bit differences (moving every layer input by an ulp moves our own
 * decode layer outputs by 3e-5 to 1e-4 of their update). So on the F32 model every single-token step is rounded as
 * llama.cpp rounds it, and its logits are required to be llama.cpp's bit for bit, on whichever CPU variant ggml loads:
 * the small-batch attention ({@link glmj.kernel.SmallBatchAttention}, {@link SmallBatchAttentionMatchesGgmlTest}),
 * f32 dot products in ggml_vec_dot_f32's order for the machine's vector width ({@link VectorKernelsMatchGgmlTest}),
 * SwiGLU with ggml's vector expf and the router's sigmoid with the C library's ({@link ExponentialsMatchGgmlTest}), the
 * rope with the C library's cosf and sinf and ggml's fused multiply-adds ({@link RopeMatchesGgmlTest}), the routed
 * experts added in the router's rank order. The prompt goes one token at a time because a batch takes other
 * kernels in llama.cpp (llamafile's tinyBLAS matmuls, one vector of partial sums per output) that we do not reproduce:
 * with the prompt as one batch this continuation agreed on an AVX-512 host but parts from llama.cpp's at a near-tie
 * on an AVX2 one.
 *
 * <p>When the F32 continuations part, the failure says whether float noise decides the choice there: our model,
 * fed llama.cpp's tokens, is rerun with every layer input moved by an ulp in random directions, and if some rerun then
 * picks llama.cpp's token, the difference is a near-tie decided by last-bit differences, not a wrong computation.
 *
 * <p>Quant-mix model, reported rather than required: ggml and we round activations to 8 bits before each quantized
 * dot product, and an activation within float noise of a rounding boundary rounds either way (see
 * {@link GlmDsaMatchesLlamaTest}); such flips accumulate in the KV caches, so there the continuations part early. Only
 * the first token, which follows the prompt alone, must agree.
 *
 * <p>The context (128 tokens, which llama.cpp pads to 256) keeps llama.cpp's KV view below 512 cells, so its
 * single-token decode never takes the split-KV flash-attention path (per-thread KV chunks merged in f32), which we do
 * not reproduce.
 */
class GreedyContinuationMatchesLlamaTest {
    private static final String PROMPT = "The quick brown fox jumps over the lazy dog, and then";
    private static final int STEPS = 64;
    private static final int N_CTX = 128;
    private static final int BATCH = 64;
    private static final int THREADS = 2;
    /** Relative move of every layer input in the noise reruns: at least one ulp, at most two. */
    private static final float NUDGE = 0x1p-23f;
    private static final int SEEDS = 8;

    @BeforeAll
    static void loadLibrary() {
        Oracle.library();
    }

    @Test
    void f32ModelContinuesAsLlamaDoes() throws IOException {
        Continuations c = continuations(TestModels.tinyF32());
        String why = c.agreeing < STEPS ? diagnosis(c) : "";
        assertArrayEquals(c.expected, c.actual, "greedy tokens from step " + c.agreeing + " on; " + why);
        int step = 0;
        while (step < STEPS && c.expectedLogits[step] == c.actualLogits[step]) {
            step++;
        }
        assertEquals(STEPS, step, "logits bit for bit llama.cpp's up to step " + step);
    }

    @Test
    void quantMixModelStartsAsLlamaDoes() throws IOException {
        Continuations c = continuations(TestModels.tinyQuantMix());
        assertEquals(c.expected[0], c.actual[0], "the token after the prompt");
    }

    /**
     * Both greedy continuations of {@link #PROMPT}, how many leading tokens they share, and a digest of the logits each
     * token was chosen from ({@link Arrays#hashCode(float[])}: equal for equal bits).
     */
    private record Continuations(Path file, int[] prompt, int[] expected, int[] actual, int agreeing,
                                 int[] expectedLogits, int[] actualLogits) {}

    private static Continuations continuations(Path file) throws IOException {
        int[] prompt;
        try (GGUFFile gguf = GGUFFile.open(file)) {
            prompt = Tokenizer.fromGGUF(gguf.metadata()).encode(PROMPT, true, false);
        }
        assertTrue(prompt.length + STEPS <= N_CTX, "prompt of " + prompt.length + " tokens");
        int[] expected, expectedLogits = new int[STEPS];
        try (LlamaEngine llamaEngine = new LlamaEngine(List.of(file), N_CTX, BATCH, THREADS, true); Session llama = llamaEngine.newSession()) {
            expected = greedy(llama, prompt, expectedLogits);
        }
        int[] actual, actualLogits = new int[STEPS];
        try (GlmDsaEngine ourEngine = GlmDsaEngine.open(file, N_CTX, BATCH, THREADS); Session ours = ourEngine.newSession()) {
            actual = greedy(ours, prompt, actualLogits);
        }
        int agreeing = 0;
        while (agreeing < STEPS && expected[agreeing] == actual[agreeing]) {
            agreeing++;
        }
        System.out.printf("%s: prompt of %d tokens, %d/%d greedy tokens agree%n  llama.cpp %s%n  glmj      %s%n",
                file.getFileName(), prompt.length, agreeing, STEPS, Arrays.toString(expected), Arrays.toString(actual));
        return new Continuations(file, prompt, expected, actual, agreeing, expectedLogits, actualLogits);
    }

    /**
     * The model's greedy continuation of {@code prompt}, every token (the prompt's too) a step of its own; the digest of
     * each step's logits goes to {@code digests}.
     */
    private static int[] greedy(Session model, int[] prompt, int[] digests) {
        Sampler sampler = new Sampler(SamplerSettings.greedy(), model.vocabularySize());
        int[] tokens = new int[STEPS];
        float[] logits = null;
        for (int i = 0; i < prompt.length; i++) {
            logits = model.forward(prompt, i, 1);
        }
        for (int i = 0; i < STEPS; i++) {
            digests[i] = Arrays.hashCode(logits);
            tokens[i] = sampler.sample(logits);
            if (i + 1 < STEPS) {
                logits = model.forward(tokens, i, 1);
            }
        }
        return tokens;
    }

    /**
     * Where our choices, from llama.cpp's prefixes, differ from its tokens, and which of those an ulp of noise in our
     * layer inputs moves to llama.cpp's token.
     */
    private static String diagnosis(Continuations c) throws IOException {
        int[] sequence = Arrays.copyOf(c.prompt, c.prompt.length + STEPS);
        System.arraycopy(c.expected, 0, sequence, c.prompt.length, STEPS);
        int[] forced = choices(c.file, sequence, c.prompt.length, null);
        List<Integer> differing = new ArrayList<>();
        for (int i = 0; i < STEPS; i++) {
            if (forced[i] != c.expected[i]) {
                differing.add(i);
            }
        }
        List<Integer> unexplained = new ArrayList<>(differing);
        for (int seed = 1; seed <= SEEDS && !unexplained.isEmpty(); seed++) {
            int[] nudged = choices(c.file, sequence, c.prompt.length, new SplittableRandom(seed));
            unexplained.removeIf(i -> nudged[i] == c.expected[i]);
        }
        List<Integer> noise = new ArrayList<>(differing);
        noise.removeAll(unexplained);
        return "fed llama.cpp's tokens, we choose otherwise at steps " + differing + "; an ulp of noise in our layer"
                + " inputs moves the choice to llama.cpp's at " + noise + " (near-ties), not at " + unexplained;
    }

    /**
     * Our most likely token after each of the {@link #STEPS} prefixes {@code sequence[0..prompt + i)}, running one
     * token at a time, as {@link #greedy} does; with {@code noise}, every layer input moved by {@link #NUDGE} of
     * itself, up or down at random.
     */
    private static int[] choices(Path file, int[] sequence, int prompt, SplittableRandom noise) throws IOException {
        int embd = TinyGlmDsa.EMBEDDING_LENGTH, layers = TinyGlmDsa.BLOCK_COUNT;
        int[] chosen = new int[STEPS];
        try (GGUFFile gguf = GGUFFile.open(file); VectorKernels kernels = new VectorKernels(THREADS)) {
            GlmDsa model = new GlmDsa(gguf, N_CTX, BATCH, kernels);
            KvCache cache = model.newCache();
            float[] logits = new float[TinyGlmDsa.vocabularySize()];
            LayerProbe nudge = noise == null ? null : (layer, x, rows) -> {
                if (layer < layers) {
                    for (int j = 0; j < rows * embd; j++) {
                        x[j] += (noise.nextBoolean() ? NUDGE : -NUDGE) * x[j];
                    }
                }
            };
            for (int t = 0; t < prompt + STEPS - 1; t++) {
                model.forward(cache, sequence, t, 1, logits, false, nudge, GlmDsa.NEVER);
                if (t + 1 >= prompt) {
                    chosen[t + 1 - prompt] = Sampler.argmax(logits);
                }
            }
        }
        return chosen;
    }
}
