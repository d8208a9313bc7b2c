package glmj.testdata;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A tiny GLM-5 as a Hugging Face FP8 checkpoint (see {@link GlmDsaCheckpoint}): 3 layers (1 dense, 2 MoE) and one
 * MTP layer, 4 heads of MLA, 8 experts + 1 shared, a DSA indexer of 4 heads of 64, the bundled BPE vocabulary padded
 * to {@link #VOCABULARY_SIZE}. Some widths are not multiples of 128, so that FP8 scale blocks are partial at the
 * edges: q_lora 576 (the columns of {@code q_b_proj} and {@code indexer.wq_b}, the rows of {@code q_a_proj}), the
 * 544 rows of {@code kv_a_proj_with_mqa} (kv_lora 512 + rope 32) and the 64 rows of {@code indexer.wk}. Every width
 * is one llama.cpp accepts. The bytes are the same on every run.
 */
public final class TinyGlmDsaCheckpoint {
    public static final int EMBEDDING_LENGTH = 256;
    public static final int LAYER_COUNT = 3;
    public static final int NEXTN_LAYERS = 1;
    public static final int LEADING_DENSE_LAYER_COUNT = 1;
    public static final int Q_LORA_RANK = 576;
    public static final int KV_LORA_RANK = 512;
    public static final int HEAD_COUNT = 4;
    public static final int EXPERT_COUNT = 8;
    /** The BPE tokens and GLM-5's added tokens, plus one id without a token, as GLM-5 pads its vocabulary. */
    public static final int VOCABULARY_SIZE = 151_680;
    /** GLM-5's trained context, which also tells llama.cpp this is GLM-5 and not GLM-5.2. */
    public static final int CONTEXT_LENGTH = 202_752;

    static final GlmDsaShape SHAPE = new GlmDsaShape(
            EMBEDDING_LENGTH, LAYER_COUNT, LEADING_DENSE_LAYER_COUNT, NEXTN_LAYERS, VOCABULARY_SIZE, CONTEXT_LENGTH, 768,
            HEAD_COUNT, Q_LORA_RANK, KV_LORA_RANK, 64, 32, 128,
            EXPERT_COUNT, 2, 1, 256, 2.5f,
            4, 64, 16, new boolean[]{true, true, true},
            1_000_000f, 1e-5f);

    private TinyGlmDsaCheckpoint() {
    }

    /** Writes the checkpoint into {@code directory}, which is created if needed and must be empty. */
    public static void write(Path directory) throws IOException {
        GlmDsaCheckpoint.prepare(directory);
        GlmDsaCheckpoint.write(directory, SHAPE, GlmVocabulary.load(TestModels.qwen2Vocabulary()));
    }
}
