package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.kernel.Kernels;
import glmj.kernel.VectorKernels;
import glmj.generate.ContextFullException;
import glmj.model.GlmDsa;
import glmj.model.KvCache;
import glmj.sampler.Sampler;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our glm-dsa forward pass gives llama.cpp's results on the tiny GLM-5 models, at every position of a 64-token prefill
 * (four times the indexer's top-k, so the DSA selection is active) and of 8 single-token decode steps after it.
 *
 * <h2>Free running, F32 model</h2>
 * Both sides keep the KV caches in f16 (we store the same f16 values) and multiply f32 weights with f32 activations, so
 * what differs is the order of float additions (the prompt's matmuls and attention; single-token steps add in ggml's
 * order), magnified in decode steps by the f16 query and f16 V accumulation of the small-batch flash attention, which
 * both sides do ({@link glmj.kernel.SmallBatchAttention}) but whose roundings a last-bit difference decorrelates: relative
 * errors up to about 2^-11 in one layer's attention output, which 4 layers and the 256-wide output head turn into logit
 * differences of order 1e-3 (we allow 0.02; measured 2e-3). KL divergence is second order in the logit
 * differences d: about Var_p(d) / 2 <= max|d|^2 / 2, so we allow 0.02^2 / 2 = 2e-4. Exact-zero indexer scores (every
 * head's ReLU zero) tie often, so matching at all 72 positions also proves we keep the tied keys ggml keeps.
 *
 * <h2>Layer by layer, with teacher forcing</h2>
 * Free running is ill-conditioned for quantized weights: ggml rounds activations to 8 bits (q8_0 / q8_K) before each
 * quantized dot product, and so do we, but an activation within float noise of a rounding boundary can round the other
 * way, and across layers such flips grow until they flip discrete choices (the indexer's top-k, the router's experts),
 * after which whole logits differ. llama.cpp differs from itself the same way: on this model its CPU_REPACK kernels
 * against its plain ones (on a CPU without AMX), free running, differ by 2.4 in the logits with top-1 agreement 63/72.
 * So each layer is
 * compared on its own: llama.cpp's eval callback gives its residual stream after every layer ({@code l_out-<il>}), and
 * a {@link glmj.model.LayerProbe} makes our layer {@code il} start from llama.cpp's {@code l_out-(il-1)} (layer 0 from
 * our own embedding, checked equal to llama.cpp's {@code embd}), in the prefill and in every decode step, so our KV
 * caches too are built from llama.cpp's inputs. Our output of layer il is compared with {@code l_out-il}, relative to
 * what the layer adds, ||l_out - l_in|| (the residual l_in passes through exactly); and our logits from llama.cpp's final
 * residual with llama.cpp's logits.
 *
 * <p>Quantized model, bound 0.05 of the layer's update. Two 8-bit roundings of the same vector (step s = amax/127 of a
 * block) differ by nothing while their inputs agree to float noise, and by one step where an input lies within that
 * noise of a boundary; the difference then spreads through the rest of the layer, where it moves later inputs by far
 * more than float noise. Its ceiling is the regime where every rounding downstream is decorrelated: each
 * element then differs by s / sqrt(6) rms, relative to the vector's rms (amax/rms / 127) / sqrt(6), with amax/rms about
 * 3 for blocks of 256 (measured on llama.cpp's attn_norm, qr, kqv_out and ffn_norm: mean 2.75 to 3.24), 0.0096 per
 * rounding. A layer's longest chain has 7 roundings (attention norm output, q latent, q_nope for attn_k_b, attention
 * latent for attn_v_b, heads for attn_output, FFN norm output, SwiGLU product), which add in quadrature to 0.025 of the
 * update; we allow twice that. Decode steps add llama.cpp's f16 flash attention (below), negligible beside it.
 * Measured: at most 0.021 in the prefill and 0.022 in decode steps, while more than half the positions (39 to 48 of 72
 * per layer) see no flip at all and agree to about 1e-6. A wrong weight, rotation or selection moves a layer's output
 * by a sizable fraction of its update, not by 0.05.
 *
 * <p>F32 model, bound 2^-11 of the update in the prefill, sqrt(17) 2^-11 in decode steps. Every product is f32 on both
 * sides (relative error about 1e-6) except the f16 KV cache, whose rounding of a value changes it by at most 2^-11
 * relative. In a single-token decode llama.cpp's flash attention also rounds the query to f16 and accumulates V in f16,
 * and so do we, rounding for rounding; but once the inputs differ in a last bit (KV rows from the prompt's matmuls,
 * which llama.cpp sums in another order) those roundings no longer coincide, and the decorrelated ceiling is the old
 * one: at most 17 roundings (the query, and each of the top-k 16 keys) of at most 2^-11 each, adding in quadrature.
 * Measured: at most 1.1e-4 in the prefill (most positions 1e-5 or less), 1.1e-4 in decode steps (7.7e-4 while our
 * attention summed in f32); moving our own layer inputs by one ulp moves our decode outputs by as much (3e-5 to 1e-4).
 *
 * <p>Discrete choices. Inside one layer a near-tie of the router (2nd and 3rd expert) or of the indexer (16th and 17th
 * key) can still flip from those differences, and the layer's output then legitimately differs by a large part of its
 * update: at one router tie of this input (layer 3, position 70, whose 2nd and 3rd expert scores are 6e-4 apart) the
 * choice follows the last bits of the inputs. So where an output is beyond the bound, the test first asks llama.cpp's
 * own router there ({@link LayerByLayer#routerMargin}): if its last chosen and first unchosen experts are within 2^-8
 * of the logits' size of a tie, the engines' legitimate differences (about 1e-2 of the router's input where 8-bit
 * roundings flip) decide it, and the difference is reported. Elsewhere it reruns our model twice
 * with every layer input moved by 2^-11 of itself in random directions (one f16 rounding, the size of the noise
 * llama.cpp's own f16 KV cache adds): if our own output there moves beyond the bound too, noise decides a discrete
 * choice at that layer and position, and the difference is counted and reported rather than failed (at most 1% of the
 * layer outputs: near-ties are rare); anywhere else it fails. Among GLM-5's 256 experts the eighth and ninth are close
 * more often ({@link FullSizeMatchesLlamaTest}: 3 of 288 outputs beyond the bound, all at router ties).
 *
 * <p>Logits from llama.cpp's final residual. Its final norm output h is ours up to float rounding, and the output head's
 * q8_K rounding of h flips an element only if h lies within that rounding of a boundary; one flip moves a logit by one
 * step amax(h)/127 times a weight of the head. We allow one such step times the largest weight, plus the worst case of
 * float summation (256 terms, 256 2^-24 sum|w h|); KL up to half that bound squared; the same top token wherever
 * llama.cpp's best two logits are further apart than twice the bound.
 *
 * <p>llama.cpp runs here without its CPU "extra buffer types" ({@code use_extra_bufts} false): every quantized matmul
 * then takes ggml's plain vec_dot path, the one our kernels emulate, on every CPU. With them, llama.cpp v0.5.0 on this
 * model aborts on CPUs with AMX (GGML_ASSERT(*cur_backend_id != -1) in ggml_backend_sched_split_graph while reserving
 * the context's graphs), and elsewhere repacks weights for kernels that sum in another order: our per-layer differences
 * from those are the same (at most 0.022 of the update, logits within 2e-6) but llama.cpp's own results move.
 */
class GlmDsaMatchesLlamaTest {
    private static final int N_CTX = 128;
    private static final int PROMPT = 4 * TinyGlmDsa.INDEXER_TOP_K;
    private static final int DECODE_STEPS = 8;
    private static final int THREADS = 2;

    /** Quantized model: twice the decorrelated-rounding estimate sqrt(7) * (3 / 127) / sqrt(6). */
    private static final double QUANT_LAYER_BOUND = 0.05;
    /** F32 model: one f16 rounding (the KV cache) in the prefill; with the f16 query and V sum, decorrelated, in decode steps. */
    private static final double F32_PREFILL_BOUND = 0x1p-11;
    private static final double F32_DECODE_BOUND = Math.sqrt(17) * 0x1p-11;

    @BeforeAll
    static void loadLibrary() {
        Oracle.library();
    }

    @Test
    void f32ModelMatchesWithTheIndexerSelecting() throws IOException {
        compareFreeRunning(TestModels.tinyF32(), VectorKernels::new, 0.02f, 2e-4);
    }

    /** With ggml's own kernels the matmuls are llama.cpp's, summed in its order: only attention and the rest differ. */
    @Test
    void f32ModelMatchesWithTheIndexerSelectingOnGgmlKernels() throws IOException {
        compareFreeRunning(TestModels.tinyF32(), GgmlKernels::new, 0.02f, 2e-4);
    }

    @Test
    void f32ModelMatchesLayerByLayer() throws IOException {
        LayerByLayer.compare(run(TestModels.tinyF32()), VectorKernels::new, F32_PREFILL_BOUND, F32_DECODE_BOUND);
    }

    @Test
    void quantMixModelMatchesLayerByLayer() throws IOException {
        LayerByLayer.compare(run(TestModels.tinyQuantMix()), VectorKernels::new, QUANT_LAYER_BOUND, QUANT_LAYER_BOUND);
    }

    @Test
    void quantMixModelMatchesLayerByLayerOnGgmlKernels() throws IOException {
        LayerByLayer.compare(run(TestModels.tinyQuantMix()), GgmlKernels::new, QUANT_LAYER_BOUND, QUANT_LAYER_BOUND);
    }

    /** llama-quantize's fallback types (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL), as files from it and Unsloth's mixes hold them. */
    @Test
    void fallbackTypesMatchLayerByLayer() throws IOException {
        LayerByLayer.compare(run(TestModels.tinyFallbackMix()), VectorKernels::new, QUANT_LAYER_BOUND, QUANT_LAYER_BOUND);
    }

    @Test
    void fallbackTypesMatchLayerByLayerOnGgmlKernels() throws IOException {
        LayerByLayer.compare(run(TestModels.tinyFallbackMix()), GgmlKernels::new, QUANT_LAYER_BOUND, QUANT_LAYER_BOUND);
    }

    /**
     * Past 256 cached tokens, in a context of 512, llama.cpp's single-token attention splits the cache among its threads
     * and glmj's sums in f32 ({@link glmj.kernel.MlaAttention}), while a batch of a few tokens still takes the
     * small-batch kernel on both sides. After a 320-token prompt, a batch of 5 tokens and then 8 single tokens, free
     * running, agree within the bounds of the short context's test. The prompt's own positions are not compared: over
     * 320 keys the indexer meets near-ties that float noise decides (positions 144 and 280 of this prompt, with the
     * prompt attention of either kernel), which the layer-by-layer tests tell from errors.
     */
    @Test
    void f32ModelMatchesPastTheCacheLlamaSplits() throws IOException {
        int[] batches = {320, 5, 1, 1, 1, 1, 1, 1, 1, 1};
        int nCtx = 512, prompt = batches[0], vocab = TinyGlmDsa.vocabularySize();
        int[] tokens = new SplittableRandom(7).ints(Arrays.stream(batches).sum(), 0, vocab).toArray();
        float[][] expected = new float[tokens.length][];
        try (LlamaModel llama = LlamaModel.load(TestModels.tinyF32());
             LlamaModel.Context context = llama.context(nCtx, prompt, THREADS)) {
            for (int b = 0, first = 0; b < batches.length; first += batches[b++]) {
                context.decode(Arrays.copyOfRange(tokens, first, first + batches[b]), true);
                for (int r = 0; r < batches[b]; r++) {
                    expected[first + r] = context.logits(r);
                }
            }
        }
        float worstDelta = 0;
        double worstKl = 0;
        int topAgree = 0;
        try (GGUFFile gguf = GGUFFile.open(TestModels.tinyF32()); Kernels kernels = new GgmlKernels(THREADS)) {
            GlmDsa model = new GlmDsa(gguf, nCtx, prompt, kernels);
            KvCache cache = model.newCache();
            float[] logits = new float[prompt * vocab];
            for (int b = 0, first = 0; b < batches.length; first += batches[b++]) {
                model.forward(cache, tokens, first, batches[b], logits, true);
                for (int r = 0; b > 0 && r < batches[b]; r++) {
                    float[] actual = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
                    worstDelta = Math.max(worstDelta, LayerByLayer.maxAbsDifference(expected[first + r], actual));
                    worstKl = Math.max(worstKl, LayerByLayer.kl(expected[first + r], actual));
                    topAgree += Sampler.argmax(expected[first + r]) == Sampler.argmax(actual) ? 1 : 0;
                }
            }
        }
        int compared = tokens.length - prompt;
        System.out.printf("past 256 cached tokens: max|dlogit| %.5f, max KL %.3e, top-1 agreement %d/%d%n",
                worstDelta, worstKl, topAgree, compared);
        assertEquals(compared, topAgree, "top-1 token agreement");
        assertTrue(worstDelta <= 0.02f, "max |dlogit| " + worstDelta + " > 0.02");
        assertTrue(worstKl <= 2e-4, "max KL " + worstKl + " > 2e-4");
    }

    @Test
    void aFullContextIsRefused() throws IOException {
        try (GGUFFile gguf = GGUFFile.open(TestModels.tinyF32()); VectorKernels kernels = new VectorKernels(1)) {
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> new GlmDsa(gguf, TinyGlmDsa.CONTEXT_LENGTH + 1, 1, kernels));
            assertTrue(tooLong.getMessage().contains("context_length"), tooLong.getMessage());
            GlmDsa model = new GlmDsa(gguf, 3, 2, kernels);
            KvCache cache = model.newCache();
            float[] logits = new float[TinyGlmDsa.vocabularySize()];
            model.forward(cache, new int[]{1, 2}, 0, 2, logits, false);
            model.forward(cache, new int[]{3}, 0, 1, logits, false);
            ContextFullException full = assertThrows(ContextFullException.class,
                    () -> model.forward(cache, new int[]{4}, 0, 1, logits, false));
            assertTrue(full.getMessage().startsWith("the context is full: 3 tokens held + 1 new > 3"), full.getMessage());
            assertEquals(3, cache.position());
        }
    }

    /** The prompt and the decoded tokens through {@code file}: random, the same on every run. */
    private static LayerByLayer.Run run(Path file) throws IOException {
        return LayerByLayer.Run.of(file, N_CTX, PROMPT, DECODE_STEPS, TinyGlmDsa.vocabularySize(), 42);
    }

    private static void compareFreeRunning(Path file, IntFunction<Kernels> kernelsOf, float maxDelta, double maxKl) throws IOException {
        int vocab = TinyGlmDsa.vocabularySize();
        LayerByLayer.Run run = run(file);
        int[] tokens = run.tokens();
        float[][] expected = LayerByLayer.llamaTrace(run).logits();
        float[][] actual = new float[tokens.length][vocab];
        try (GGUFFile gguf = GGUFFile.open(file); Kernels kernels = kernelsOf.apply(THREADS)) {
            GlmDsa model = new GlmDsa(gguf, N_CTX, PROMPT, kernels);
            KvCache cache = model.newCache();
            float[] logits = new float[PROMPT * vocab];
            model.forward(cache, tokens, 0, PROMPT, logits, true);
            for (int t = 0; t < PROMPT; t++) {
                System.arraycopy(logits, t * vocab, actual[t], 0, vocab);
            }
            for (int t = PROMPT; t < tokens.length; t++) {
                model.forward(cache, tokens, t, 1, actual[t], false);
            }
        }
        float worstDelta = 0;
        double worstKl = 0;
        int topAgree = 0;
        for (int t = 0; t < tokens.length; t++) {
            worstDelta = Math.max(worstDelta, LayerByLayer.maxAbsDifference(expected[t], actual[t]));
            worstKl = Math.max(worstKl, LayerByLayer.kl(expected[t], actual[t]));
            topAgree += Sampler.argmax(expected[t]) == Sampler.argmax(actual[t]) ? 1 : 0;
        }
        System.out.printf("%s free running: max|dlogit| %.5f, max KL %.3e, top-1 agreement %d/%d%n", file.getFileName(),
                worstDelta, worstKl, topAgree, tokens.length);
        assertEquals(tokens.length, topAgree, "top-1 token agreement");
        assertTrue(worstDelta <= maxDelta, "max |dlogit| " + worstDelta + " > " + maxDelta);
        assertTrue(worstKl <= maxKl, "max KL " + worstKl + " > " + maxKl);
    }

}
