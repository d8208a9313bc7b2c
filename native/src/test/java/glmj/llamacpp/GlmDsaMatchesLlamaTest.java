package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.kernel.VectorKernels;
import glmj.generate.ContextFullException;
import glmj.model.GlmDsa;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our glm-dsa forward pass gives llama.cpp's logits on the tiny GLM-5 models, at every position of a prefill several
 * times longer than the indexer's top-k (so the DSA selection is active) and then for single-token decode steps.
 *
 * <p>F32 model bounds: both sides keep the KV caches in f16 (we store the same f16 values) and multiply f32 weights with
 * f32 activations, so what differs is the order of float additions and, in llama.cpp's single-token flash attention,
 * an f16 query and f16 V accumulation: relative errors of about 2^-11 in one layer's attention output, which 4 layers
 * and the 256-wide output head turn into logit differences of order 1e-3 (we allow 0.02). KL divergence is second
 * order in the logit differences d: about Var_p(d) / 2 <= max|d|^2 / 2, so we allow 0.02^2 / 2 = 2e-4. Exact-zero
 * indexer scores (every head's ReLU zero) tie often, so matching at all 72 positions also proves we keep the tied keys ggml keeps.
 *
 * <p>Quantized model bounds: ggml rounds activations to 8 bits (q8_0 / q8_K, step 1/127 of a block's largest value)
 * before each quantized dot product, and we round them the same way; but an activation that lies within float noise
 * (1e-7) of a rounding boundary can round the other way, changing by a whole step. One such flip moves an attention
 * output by about 2e-3, and later roundings spread it: logit differences of typical size 0.1 and maximum a few
 * tenths (we allow 0.5); KL about Var_p(d) / 2 with that typical size, 0.1^2 / 2 = 5e-3. Differences of that size
 * can flip a discrete choice between nearly equal scores (the indexer's top-k, the router's top experts), after which positions legitimately differ by whole logits. So this model is
 * compared at the positions where the indexer selects every visible key, in a prefill long enough for llama.cpp's
 * tiled f32 flash attention (single-token decode and short batches take its f16-accumulating path, whose larger noise
 * flips expert choices in this random-weight model); the F32 model proves the selection and the decode path.
 */
class GlmDsaMatchesLlamaTest {
    private static final int N_CTX = 128;

    @BeforeAll
    static void loadLibrary() {
        Oracle.library();
    }

    @Test
    void f32ModelMatchesWithTheIndexerSelecting() throws IOException {
        int prompt = 4 * TinyGlmDsa.INDEXER_TOP_K;
        compare(TestModels.tinyF32(), prompt, 8, prompt + 8, 0.02f, 2e-4, true);
    }

    @Test
    void quantMixModelMatchesWhileEveryKeyIsSelected() throws IOException {
        compare(TestModels.tinyQuantMix(), 4 * TinyGlmDsa.INDEXER_TOP_K, 0, TinyGlmDsa.INDEXER_TOP_K, 0.5f, 5e-3, false);
    }

    @Test
    void aFullContextIsRefused() throws IOException {
        try (GGUFFile gguf = GGUFFile.open(TestModels.tinyF32()); VectorKernels kernels = new VectorKernels(1)) {
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> new GlmDsa(gguf, TinyGlmDsa.CONTEXT_LENGTH + 1, 1, kernels));
            assertTrue(tooLong.getMessage().contains("context_length"), tooLong.getMessage());
            GlmDsa model = new GlmDsa(gguf, 3, 2, kernels);
            float[] logits = new float[TinyGlmDsa.vocabularySize()];
            model.forward(new int[]{1, 2}, 0, 2, logits, false);
            model.forward(new int[]{3}, 0, 1, logits, false);
            ContextFullException full = assertThrows(ContextFullException.class,
                    () -> model.forward(new int[]{4}, 0, 1, logits, false));
            assertTrue(full.getMessage().startsWith("the context is full: 3 tokens held + 1 new > 3"), full.getMessage());
            assertEquals(3, model.position());
        }
    }

    /**
     * @param checked      positions compared: the first ones
     * @param sameTopToken whether to require the same top token everywhere: with 150k random-weight logits the best
     *                     two are often closer than the quantized model's bound
     */
    private static void compare(Path file, int promptLength, int decodeSteps, int checked, float maxDelta, double maxKl,
                                boolean sameTopToken) throws IOException {
        int vocab = TinyGlmDsa.vocabularySize();
        int[] tokens = new int[promptLength + decodeSteps];
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(vocab);
        }
        float[][] expected = llamaLogits(file, tokens, promptLength);
        float[][] actual = new float[tokens.length][vocab];
        try (GGUFFile gguf = GGUFFile.open(file); VectorKernels kernels = new VectorKernels(2)) {
            GlmDsa model = new GlmDsa(gguf, N_CTX, promptLength, kernels);
            float[] logits = new float[promptLength * vocab];
            model.forward(tokens, 0, promptLength, logits, true);
            for (int t = 0; t < promptLength; t++) {
                System.arraycopy(logits, t * vocab, actual[t], 0, vocab);
            }
            for (int t = promptLength; t < tokens.length; t++) {
                model.forward(tokens, t, 1, actual[t], false);
            }
        }
        float worstDelta = 0;
        double worstKl = 0;
        int topAgree = 0;
        for (int t = 0; t < checked; t++) {
            float delta = 0;
            for (int v = 0; v < vocab; v++) {
                delta = Math.max(delta, Math.abs(expected[t][v] - actual[t][v]));
            }
            double kl = kl(expected[t], actual[t]);
            worstDelta = Math.max(worstDelta, delta);
            worstKl = Math.max(worstKl, kl);
            if (argmax(expected[t]) == argmax(actual[t])) {
                topAgree++;
            }
        }
        System.out.printf("%s: max|dlogit| %.5f, max KL %.3e, top-1 agreement %d/%d%n", file.getFileName(), worstDelta,
                worstKl, topAgree, checked);
        if (sameTopToken) {
            assertEquals(checked, topAgree, "top-1 token agreement");
        }
        assertTrue(worstDelta <= maxDelta, "max |dlogit| " + worstDelta + " > " + maxDelta);
        assertTrue(worstKl <= maxKl, "max KL " + worstKl + " > " + maxKl);
    }

    /** llama.cpp's logits: one batch with logits at every prompt position, then one token per decode call. */
    private static float[][] llamaLogits(Path file, int[] tokens, int promptLength) {
        float[][] out = new float[tokens.length][];
        try (LlamaModel model = LlamaModel.load(file); LlamaModel.Context context = model.context(N_CTX, promptLength, 2)) {
            context.decode(Arrays.copyOf(tokens, promptLength), true);
            for (int t = 0; t < promptLength; t++) {
                out[t] = context.logits(t);
            }
            for (int t = promptLength; t < tokens.length; t++) {
                context.decode(new int[] {tokens[t]}, true);
                out[t] = context.logits(0);
            }
        }
        return out;
    }

    private static double kl(float[] p, float[] q) {
        double[] lp = logSoftmax(p);
        double[] lq = logSoftmax(q);
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
        }
        return kl;
    }

    private static double[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v - max);
        }
        double log = Math.log(sum) + max;
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] - log;
        }
        return out;
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
