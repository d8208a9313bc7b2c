package glmj.testdata;

import glmj.tensor.GGMLType;
import glmj.testdata.GlmDsaGenerator.QuantMix;
import glmj.testdata.GlmDsaGenerator.Role;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * GLM-5 at its real widths with any number of blocks, random weights: n_embd 6144, 64 heads of MLA (q_lora 2048,
 * kv_lora 512, keys of 192 + 64 rope, values of 256), 256 routed experts of width 2048 of which 8 are used plus one
 * shared, dense FFN 12288 in the leading blocks, a DSA indexer of 32 heads of 128 choosing 2048 keys in every block,
 * the 154,880-token vocabulary (the tiny model's tokenizer padded with unused tokens), context 202,752, and MTP blocks
 * after the trunk as in GLM-5's files. Its tensors are random blocks written straight in their types ({@link RandomBlocks}),
 * streamed to disk: a 10 GB file takes about a minute on two cores.
 *
 * <p>The quantization mix is Unsloth's UD-Q2_K_XL as its GLM-5.2 build was publicly listed (lvyufeng/PocketLLM,
 * docs/models/glm-5.2.md and pull requests 46, 47 and 51, read from that GGUF): routed experts IQ2_XS (gate, up) and
 * IQ3_XXS (down; IQ4_XS in blocks 8 and 75 to 77), shared experts Q5_K (gate, up) and Q6_K (down; Q8_0 in block 8),
 * dense FFN Q5_K and Q6_K, attn_q_a and attn_output Q5_K, attn_q_b, attn_kv_a_mqa, attn_k_b and attn_v_b Q8_0,
 * token embeddings Q5_K and output head Q4_K. Not listed there, so assumed: the indexer's projections Q8_0 like the
 * attention's, its head weights F32 like the router (as the tiny model keeps them), and the MTP block's eh_proj Q5_K.
 * GLM-5's UD-Q2_K_XL (241 GB) needs experts of about 2.5 bits to reach its size, which this mix has; Q2_K/Q3_K experts
 * would make it about 275 GB. At these widths only attn_k_b has rows that are not a multiple of 256 (192), and Q8_0
 * takes them, so no tensor needs llama-quantize's Q4_0/Q5_0 fallbacks.
 */
public final class FullWidthGlmDsa {
    public static final int EMBEDDING_LENGTH = 6144;
    public static final int VOCABULARY_SIZE = 154_880;
    public static final int CONTEXT_LENGTH = 202_752;
    public static final int EXPERT_COUNT = 256;
    public static final int EXPERT_USED_COUNT = 8;
    public static final int HEAD_COUNT = 64;
    public static final int INDEXER_HEAD_COUNT = 32;
    /** GLM-5's 78 trunk blocks, 3 of them dense, and one MTP block. */
    public static final Layers GLM_5 = new Layers(78, 3, 1);
    /** The blocks of {@link #writeMiniature}: one dense, two MoE and the MTP block. */
    public static final Layers MINIATURE_LAYERS = new Layers(3, 1, 1);

    /**
     * How many blocks: {@code blocks} in the trunk, the first {@code denseBlocks} of them dense (the others MoE), then
     * {@code mtpBlocks} MTP blocks (llama.cpp loads them but does not run them in a forward pass).
     */
    public record Layers(int blocks, int denseBlocks, int mtpBlocks) {
        public Layers {
            if (blocks < 1 || denseBlocks < 0 || denseBlocks > blocks || mtpBlocks < 0 || mtpBlocks > 1) {
                throw new IllegalArgumentException("a model of " + blocks + " blocks with " + denseBlocks + " dense and "
                        + mtpBlocks + " MTP blocks: need 1 or more blocks, at most that many dense, and 0 or 1 MTP block");
            }
        }

        /** {@code blocks} with GLM-5's 3 dense blocks first (fewer if the trunk is shorter, keeping one MoE block) and its one MTP block. */
        public static Layers of(int blocks) {
            return new Layers(blocks, Math.max(0, Math.min(GLM_5.denseBlocks, blocks - 1)), GLM_5.mtpBlocks);
        }
    }

    private FullWidthGlmDsa() {
    }

    /** Writes the model as one GGUF file, generating its tensors on every core; {@code seed} chooses the weights. */
    public static void write(Path file, Layers layers, long seed) throws IOException {
        write(file, layers, seed, GlmDsaGenerator.Progress.NONE);
    }

    static void write(Path file, Layers layers, long seed, GlmDsaGenerator.Progress progress) throws IOException {
        String name = "glmj GLM-5 full width, " + layers.blocks() + " blocks, UD_Q2_K_XL (random weights, seed " + seed + ")";
        GlmDsaGenerator.write(file, new GlmDsaGenerator.Model(name, shape(layers), new UnslothUdQ2KXl(),
                GlmDsaGenerator.WeightSource.RANDOM_BLOCKS, seed), progress);
    }

    /**
     * The model's metadata alone, no tensor: what can be known of a full-size model without its gigabytes (the KV cache
     * of a context, as {@code glmj info} predicts it).
     */
    public static void writeMetadataOnly(Path file, Layers layers) throws IOException {
        GlmDsaGenerator.metadataOnly(new GlmDsaGenerator.Model("glmj GLM-5 full width, " + layers.blocks() + " blocks, metadata only",
                shape(layers), new UnslothUdQ2KXl(), GlmDsaGenerator.WeightSource.RANDOM_BLOCKS, 0)).write(file);
    }

    /**
     * The same design at test size, about 80 MB: n_embd 256, 4 heads, q_lora and expert width 256, 64 experts, one dense
     * and two MoE blocks and the MTP block; everything else as at full width (GLM-5's per-head lengths, indexer and
     * vocabulary, the mix, random blocks, no {@code indexer.types} key).
     */
    public static void writeMiniature(Path file) throws IOException {
        GlmDsaGenerator.write(file, new GlmDsaGenerator.Model("glmj GLM-5 full-width design at test size (random weights)",
                narrowed(MINIATURE_LAYERS, 4, INDEXER_HEAD_COUNT), new UnslothUdQ2KXl(),
                GlmDsaGenerator.WeightSource.RANDOM_BLOCKS, 0), GlmDsaGenerator.Progress.NONE);
    }

    /**
     * The model {@code layers} make with the KV cache of the full-width one and little else: the same blocks, each
     * caching per token the 512 + 64 latent and the indexer's 128-wide key, but one attention head, one indexer head and
     * the test-size widths of {@link #writeMiniature}. A context it fills moves into the full-width model's context
     * ({@code glmj bench --fill-model}): a depth of 131072 tokens in minutes where the full widths take hours. The cached
     * values are this model's, so the full-width model then decodes at the depth's speed, not to its outputs.
     */
    public static void writeCacheTwin(Path file, Layers layers, GlmDsaGenerator.Progress progress) throws IOException {
        String name = "glmj GLM-5 cache twin, " + layers.blocks() + " blocks (one head, random weights)";
        GlmDsaGenerator.write(file, new GlmDsaGenerator.Model(name, narrowed(layers, 1, 1), new UnslothUdQ2KXl(),
                GlmDsaGenerator.WeightSource.RANDOM_BLOCKS, 0), progress);
    }

    /** The full-width shape of {@code layers} at n_embd 256, with {@code heads} attention and {@code indexerHeads} indexer heads. */
    private static GlmDsaShape narrowed(Layers layers, int heads, int indexerHeads) {
        GlmDsaShape full = shape(layers);
        return new GlmDsaShape(
                256, full.blockCount(), full.leadingDenseBlockCount(), full.nextnBlockCount(), VOCABULARY_SIZE,
                full.contextLength(), 512,
                heads, 256, full.kvLoraRank(), full.qkNopeHeadDim(), full.qkRopeHeadDim(), full.valueLengthMla(),
                64, EXPERT_USED_COUNT, 1, 256, full.expertWeightsScale(),
                indexerHeads, full.indexerKeyLength(), full.indexerTopK(), null,
                full.ropeFreqBase(), full.rmsNormEps());
    }

    /** The bytes of the model's tensors: nearly its file size (the header adds about 5 MB). */
    public static long tensorBytes(Layers layers) {
        UnslothUdQ2KXl mix = new UnslothUdQ2KXl();
        long bytes = 0;
        for (GlmDsaGenerator.TensorSpec spec : GlmDsaGenerator.tensors(shape(layers), VOCABULARY_SIZE)) {
            bytes += mix.typeOf(spec.role(), spec.block()).byteSize(spec.elementCount());
        }
        return bytes;
    }

    static GlmDsaShape shape(Layers layers) {
        return new GlmDsaShape(
                EMBEDDING_LENGTH, layers.blocks(), layers.denseBlocks(), layers.mtpBlocks(), VOCABULARY_SIZE,
                CONTEXT_LENGTH, 12288,
                HEAD_COUNT, 2048, 512, 192, 64, 256,
                EXPERT_COUNT, EXPERT_USED_COUNT, 1, 2048, 2.5f,
                // every indexer full, with no indexer.types key, as in GLM-5's files
                INDEXER_HEAD_COUNT, 128, 2048, null,
                1_000_000f, 1e-5f);
    }

    /** The UD-Q2_K_XL mix described above; blocks are numbered as in GLM-5's file. */
    static final class UnslothUdQ2KXl implements QuantMix {
        private static final Set<Integer> FINER_EXPERT_DOWN_BLOCKS = Set.of(8, 75, 76, 77);
        private static final int FINER_SHARED_DOWN_BLOCK = 8;

        @Override
        public GGMLType typeOf(Role role, int block) {
            return switch (role) {
                case TOKEN_EMBD -> GGMLType.Q5_K;
                case OUTPUT -> GGMLType.Q4_K;
                case NORM, ROUTER, INDEXER_PROJ -> GGMLType.F32;
                case ATTN_Q_A, ATTN_OUTPUT, FFN_GATE_UP, SHARED_GATE_UP, NEXTN_PROJ -> GGMLType.Q5_K;
                case ATTN_Q_B, ATTN_KV_A_MQA, ATTN_K_B, ATTN_V_B, INDEXER_Q_B, INDEXER_K -> GGMLType.Q8_0;
                case FFN_DOWN -> GGMLType.Q6_K;
                case SHARED_DOWN -> block == FINER_SHARED_DOWN_BLOCK ? GGMLType.Q8_0 : GGMLType.Q6_K;
                case EXPERT_GATE_UP -> GGMLType.IQ2_XS;
                case EXPERT_DOWN -> FINER_EXPERT_DOWN_BLOCKS.contains(block) ? GGMLType.IQ4_XS : GGMLType.IQ3_XXS;
            };
        }

        @Override
        public int fileType() {
            return GlmDsaGenerator.FILE_TYPE_MOSTLY_Q2_K;
        }
    }
}
