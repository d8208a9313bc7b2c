package glmj.llamacpp;

import glmj.kernel.SmallBatchAttention;
import glmj.tensor.blocks.LittleEndian;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SmallBatchAttention} computes llama.cpp's small-batch flash attention bit for bit: llama.cpp runs the tiny F32
 * model on a 20-token prompt (one batch, below ggml's 64-row tile) and 20 single-token decode steps, and hands over,
 * per layer, its attention query ({@code Qcur}), the rows it caches ({@code Kcur}, which we round to f16 as its cache
 * does), the indexer's choice ({@code top_k}) and the flash-attention result (the unnamed op's {@code " (permuted)"}
 * view); from llama.cpp's own inputs our kernel must give exactly its result, for every token, head and layer.
 */
class SmallBatchAttentionMatchesGgmlTest {
    private static final int N_CTX = 128;
    private static final int PROMPT = 20;
    private static final int DECODE_STEPS = 20;
    private static final int HEADS = TinyGlmDsa.HEAD_COUNT;
    private static final int KV_LORA = TinyGlmDsa.KV_LORA_RANK;
    private static final int ROPE = TinyGlmDsa.QK_ROPE_HEAD_DIM;
    private static final int ROW = KV_LORA + ROPE;

    @BeforeAll
    static void loadLibrary() {
        Oracle.library();
    }

    @Test
    void givesLlamaCppsFlashAttentionFromItsInputs() {
        int vocab = TinyGlmDsa.vocabularySize();
        SplittableRandom random = new SplittableRandom(7);
        int[] tokens = new int[PROMPT + DECODE_STEPS];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(vocab);
        }
        // glm-dsa.cpp: kq_scale = mscale * mscale / sqrtf(n_embd_head_k_mla), mscale 1 without YaRN
        float scale = 1.0f / (float) Math.sqrt(TinyGlmDsa.KEY_LENGTH_MLA);
        int layers = TinyGlmDsa.BLOCK_COUNT;
        MemorySegment[] cache = new MemorySegment[layers];
        Arrays.setAll(cache, il -> Arena.ofAuto().allocate(2L * N_CTX * ROW));
        SmallBatchAttention attention = new SmallBatchAttention(KV_LORA, ROPE, HEADS);
        float[] ours = new float[HEADS * KV_LORA];
        int compared = 0, differing = 0;
        double worst = 0;
        try (LlamaModel model = LlamaModel.load(TestModels.tinyF32());
             LlamaModel.Context context = model.context(N_CTX, PROMPT, 2, name -> name.equals(" (permuted)")
                     || name.startsWith("Qcur-") && !name.contains("(") || name.startsWith("Kcur-") && !name.contains("(")
                     || name.startsWith("top_k-") && !name.contains("("))) {
            for (int first = 0; first < tokens.length; ) {
                int count = first == 0 ? PROMPT : 1;
                context.decode(Arrays.copyOfRange(tokens, first, first + count), false);
                List<LlamaModel.Tensor> results = new ArrayList<>(), selections = new ArrayList<>();
                for (LlamaModel.Tensor tensor : context.capturedInOrder()) {
                    if (tensor.name().equals(" (permuted)")) {
                        results.add(tensor);
                    } else if (tensor.name().startsWith("top_k-")) {
                        selections.add(tensor); // one per full indexer layer, in layer order
                    }
                }
                assertEquals(layers, results.size(), "flash-attention results");
                int selection = -1;
                for (int il = 0; il < layers; il++) {
                    if (TinyGlmDsa.isIndexerFull(il)) {
                        selection++;
                    }
                    float[] query = context.captured("Qcur-" + il).values();
                    float[] keys = context.captured("Kcur-" + il).values();
                    for (int i = 0; i < count * ROW; i++) {
                        cache[il].set(LittleEndian.SHORT, 2L * (first * ROW + i), Float.floatToFloat16(keys[i]));
                    }
                    LlamaModel.Tensor topK = selections.get(selection);
                    LlamaModel.Tensor result = results.get(il);
                    assertArrayEquals(new long[] {KV_LORA, count, HEADS, 1}, result.ne(), "layer " + il);
                    for (int t = 0; t < count; t++) {
                        int position = first + t;
                        TreeSet<Integer> visible = new TreeSet<>();
                        for (float key : topK.row(t)) {
                            if (key <= position) {
                                visible.add((int) key);
                            }
                        }
                        int[] selected = visible.stream().mapToInt(Integer::intValue).toArray();
                        // every head of the token as one group, as glmj attends them
                        int q = t * HEADS * ROW;
                        attention.attend(HEADS, query, q, ROW, query, q + KV_LORA, ROW, cache[il], selected, selected.length, scale, ours, 0);
                        for (int h = 0; h < HEADS; h++) {
                            float[] expected = result.row(h * count + t);
                            compared++;
                            double difference = 0, norm = 0;
                            for (int d = 0; d < KV_LORA; d++) {
                                double ourValue = ours[h * KV_LORA + d];
                                difference += (ourValue - expected[d]) * (ourValue - expected[d]);
                                norm += expected[d] * (double) expected[d];
                            }
                            if (difference > 0) {
                                differing++;
                                worst = Math.max(worst, Math.sqrt(difference / norm));
                            }
                        }
                    }
                }
                first += count;
            }
        }
        System.out.printf("small-batch flash attention: %d of %d (token, head, layer) results differ from llama.cpp's, worst by %.2e%n",
                differing, compared, worst);
        assertTrue(compared > 0);
        assertEquals(0, differing, "results not bit for bit llama.cpp's (worst relative difference " + worst + ")");
    }
}
