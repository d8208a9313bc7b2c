package glmj.testdata;

import glmj.tensor.GGMLType;
import glmj.testdata.GlmDsaGenerator.QuantMix;
import glmj.testdata.GlmDsaGenerator.Role;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * GLM-5 scaled down to about 1 GB for speed measurements, with random weights: the tiny model's tensor set, metadata
 * and tokenizer (made by the same {@link GlmDsaGenerator}) at sizes where expert weights dominate the file and a decode
 * step reads hundreds of megabytes, far more than any cache.
 *
 * <p>GLM-5 has n_embd 6144, 78 blocks (3 dense), 64 heads with MLA (q_lora 2048, kv_lora 512, nope/rope/value heads of
 * 192/64/256), 256 routed experts of width 2048 of which 8 are used plus one shared, a dense FFN of 12288 and a DSA
 * indexer of 32 heads of 128 choosing 2048 keys. This model keeps GLM-5's per-head sizes, kv_lora rank, indexer head
 * length and top-k, expert top-8 and routed scaling; the widths scale with n_embd: one head per 64 and half as many
 * indexer heads, q_lora and expert width n_embd/2, dense FFN 2 n_embd; and it has 64 experts, so a token reads 1/8 of
 * them (GLM-5 reads 1/32). Every indexer is full, as in GLM-5. Widths never drop below 256 so that K-quants fit.
 *
 * <p>The quantization mix follows Unsloth's UD-Q2_K_XL: Q4_K token embeddings, Q6_K output head, Q2_K expert gate/up
 * (Q3_K in the first MoE block) and Q3_K expert down (Q4_K in the first two MoE blocks), and the tiny model's
 * attention, indexer, dense and shared-expert types. With the 152k vocabulary the Q6_K head is the largest single
 * read of a decode step, a bigger share than in GLM-5, where it is 4% of the bytes read.
 */
public final class BenchGlmDsa {
    /** How big a model to make; both go through the same code. */
    public enum Scale {
        /** About 1.1 GB: n_embd 1024, 20 blocks (1 dense, 19 MoE). */
        FULL(1024, 20),
        /** The same design at test size: n_embd 256, 3 blocks (1 dense, 2 MoE), about 75 MB. */
        SMALL(256, 3);

        final int embeddingLength;
        final int blockCount;

        Scale(int embeddingLength, int blockCount) {
            this.embeddingLength = embeddingLength;
            this.blockCount = blockCount;
        }
    }

    public static final int CONTEXT_LENGTH = 32768;
    public static final int EXPERT_COUNT = 64;
    public static final int EXPERT_USED_COUNT = 8;
    public static final int INDEXER_TOP_K = 2048;
    private static final int LEADING_DENSE_BLOCK_COUNT = 1;
    /** The smallest width K-quant rows allow. */
    private static final int QK_K = 256;

    private BenchGlmDsa() {
    }

    /** Writes the model at {@code scale} as one GGUF file, generating its tensors on every core. */
    public static void write(Path file, Scale scale) throws IOException {
        write(file, scale, GlmDsaGenerator.Progress.NONE);
    }

    static void write(Path file, Scale scale, GlmDsaGenerator.Progress progress) throws IOException {
        String name = "glmj bench GLM-5 " + scale.name().toLowerCase(Locale.ROOT) + " UD_Q2_K_XL (random weights)";
        GlmDsaGenerator.write(file, new GlmDsaGenerator.Model(name, shape(scale), new UnslothQ2KXl(),
                GlmDsaGenerator.WeightSource.QUANTIZED_FLOATS, 0), progress);
    }

    /**
     * Writes the bench model's weights at {@code scale} as a Hugging Face FP8 checkpoint into {@code directory}
     * (created if needed, and empty): the values {@link #write} quantizes, rounded to FP8 with 128x128 block scales
     * or to BF16 instead (see {@link GlmDsaCheckpoint}), the reference {@code glmj quality weights} compares the bench
     * model with.
     */
    public static void writeCheckpoint(Path directory, Scale scale) throws IOException {
        GlmVocabulary vocabulary = GlmVocabulary.load(TestModels.qwen2Vocabulary());
        GlmDsaCheckpoint.prepare(directory);
        GlmDsaCheckpoint.write(directory, shape(scale), vocabulary);
    }

    static GlmDsaShape shape(Scale scale) {
        int embd = scale.embeddingLength;
        int heads = embd / 64;
        int halfWidth = Math.max(QK_K, embd / 2);
        boolean[] everyIndexerFull = new boolean[scale.blockCount];
        Arrays.fill(everyIndexerFull, true);
        return new GlmDsaShape(
                embd, scale.blockCount, LEADING_DENSE_BLOCK_COUNT, 0, 0, CONTEXT_LENGTH, 2 * embd,
                // GLM-5's kv_lora rank and its nope, rope and value head lengths
                heads, halfWidth, 512, 192, 64, 256,
                // one shared expert; GLM-5's routed scaling factor
                EXPERT_COUNT, EXPERT_USED_COUNT, 1, halfWidth, 2.5f,
                // GLM-5's indexer head length
                heads / 2, 128, INDEXER_TOP_K, everyIndexerFull,
                // GLM-5's rope base and RMS norm epsilon
                1_000_000f, 1e-5f);
    }

    /** The UD-Q2_K_XL-like mix described above. */
    static final class UnslothQ2KXl implements QuantMix {
        @Override
        public GGMLType typeOf(Role role, int block) {
            int moeBlock = block - LEADING_DENSE_BLOCK_COUNT;
            return switch (role) {
                case TOKEN_EMBD -> GGMLType.Q4_K;
                case OUTPUT -> GGMLType.Q6_K;
                case EXPERT_GATE_UP -> moeBlock == 0 ? GGMLType.Q3_K : GGMLType.Q2_K;
                case EXPERT_DOWN -> moeBlock < 2 ? GGMLType.Q4_K : GGMLType.Q3_K;
                default -> TinyGlmDsa.Variant.UD_Q2_K_XL.typeOf(role, block);
            };
        }

        @Override
        public int fileType() {
            return GlmDsaGenerator.FILE_TYPE_MOSTLY_Q2_K;
        }
    }
}
