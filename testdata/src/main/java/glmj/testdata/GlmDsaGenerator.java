package glmj.testdata;

import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;
import glmj.tensor.GGMLType;
import glmj.tensor.quantize.Quantizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a GLM-5 ({@code glm-dsa}) with random weights from its {@link GlmDsaShape} and a {@link QuantMix}: GLM-5's
 * tensor names, metadata keys, layer kinds and tokenizer. The tiny test models, the bench model and the full-width
 * models are all made here. Each tensor made from floats, and each chunk of a tensor of random blocks, draws from its
 * own random stream (see {@link Weights}), so the bytes do not depend on how many threads make them. Tensors of random
 * blocks are made into the file as it is written, so a model larger than memory can be made.
 */
final class GlmDsaGenerator {
    static final String ARCHITECTURE = "glm-dsa";
    /** llama.cpp's {@code LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID}. */
    static final int EXPERT_GATING_FUNC_SIGMOID = 2;
    /** llama.cpp's {@code llama_ftype}: ALL_F32 and MOSTLY_Q2_K. */
    static final int FILE_TYPE_ALL_F32 = 0;
    static final int FILE_TYPE_MOSTLY_Q2_K = 10;

    private static final String CHAT_TEMPLATE_RESOURCE = "glmj/testdata/glm5-chat-template.jinja";
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Weights generated per step, bounding the heap a tensor needs while it is made. */
    private static final int CHUNK_WEIGHTS = 1 << 20;
    /** Bytes of random blocks per task and random stream: a fixed size, so the bytes do not depend on the threads. */
    private static final int CHUNK_BYTES = 1 << 22;

    /** How a model's weights are made. */
    enum WeightSource {
        /**
         * Floats from each tensor's random stream, quantized by glmj's quantizers (bit-exact with ggml's), so the F32 and
         * quantized variants of a model hold the same underlying weights. The K- and IQ-quants' searches make this
         * megabytes per second.
         */
        QUANTIZED_FLOATS,
        /**
         * Random valid blocks written straight in the tensor's type ({@link RandomBlocks}), gigabytes per minute; F32
         * tensors (norms, biases, the router) still come from floats.
         */
        RANDOM_BLOCKS
    }

    /** What a tensor does, which decides its type in a {@link QuantMix}. */
    enum Role {
        TOKEN_EMBD, OUTPUT, NORM, ATTN_Q_A, ATTN_Q_B, ATTN_KV_A_MQA, ATTN_K_B, ATTN_V_B, ATTN_OUTPUT,
        INDEXER_Q_B, INDEXER_K, INDEXER_PROJ, FFN_GATE_UP, FFN_DOWN, ROUTER, EXPERT_GATE_UP, EXPERT_DOWN,
        SHARED_GATE_UP, SHARED_DOWN, NEXTN_PROJ
    }

    /** The tensor types of a generated model. */
    interface QuantMix {
        /** The type of a tensor with {@code role} in block {@code block} (-1 for the tensors outside the blocks). */
        GGMLType typeOf(Role role, int block);

        /** {@code general.file_type}: llama.cpp's {@code llama_ftype}. */
        int fileType();
    }

    /** Told the tensor bytes made so far, from the generating threads one at a time. */
    @FunctionalInterface
    interface Progress {
        Progress NONE = (done, total) -> { };

        void madeBytes(long done, long total);
    }

    /** One tensor to generate; {@code shape} is in ggml order (shape[0] is the row length); block -1 is outside the blocks. */
    record TensorSpec(String name, Role role, int block, Weights.Init init, long... shape) {
        long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private GlmDsaGenerator() {
    }

    /**
     * A model to generate: its name ({@code general.name}), sizes, tensor types, how its weights are made, and the seed
     * they are drawn from (0 for the test models).
     */
    record Model(String name, GlmDsaShape shape, QuantMix mix, WeightSource source, long seed) {
    }

    /** Writes {@code model} as one GGUF file, generating its tensors on every core. */
    static void write(Path file, Model model, Progress progress) throws IOException {
        try (Arena arena = Arena.ofShared()) {
            writer(model, arena, progress).write(file);
        }
    }

    /**
     * A writer holding {@code model}: the tensors made from floats generated (on every core) into {@code arena}, the
     * tensors of random blocks made (on every core) into the file when it is written.
     */
    static GGUFWriter writer(Model model, Arena arena, Progress progress) throws IOException {
        GlmDsaShape shape = model.shape();
        GlmVocabulary vocabulary = vocabulary(shape);
        GGUFWriter w = metadata(shape, model.mix(), model.name(), vocabulary);
        List<TensorSpec> specs = tensors(shape, vocabulary.size());
        GGMLType[] types = new GGMLType[specs.size()];
        boolean[] randomBlocks = new boolean[specs.size()];
        long total = 0;
        for (int i = 0; i < types.length; i++) {
            TensorSpec spec = specs.get(i);
            types[i] = model.mix().typeOf(spec.role(), spec.block());
            randomBlocks[i] = model.source() == WeightSource.RANDOM_BLOCKS && RandomBlocks.canWrite(types[i]);
            total += types[i].byteSize(spec.elementCount());
        }
        Made made = new Made(total, progress);
        MemorySegment[] data = generateFromFloats(specs, types, randomBlocks, model.seed(), arena, made);
        for (int i = 0; i < specs.size(); i++) {
            TensorSpec spec = specs.get(i);
            GGMLType type = types[i];
            if (randomBlocks[i]) {
                w.addTensor(spec.name(), type, spec.shape(), target -> fillRandomBlocks(spec, type, model.seed(), target, made));
            } else {
                w.addTensor(spec.name(), type, spec.shape(), data[i]);
            }
        }
        return w;
    }

    /** A writer holding only {@code model}'s metadata: its geometry, vocabulary and chat template, no tensor. */
    static GGUFWriter metadataOnly(Model model) throws IOException {
        return metadata(model.shape(), model.mix(), model.name(), vocabulary(model.shape()));
    }

    private static GlmVocabulary vocabulary(GlmDsaShape shape) throws IOException {
        GlmVocabulary vocabulary = GlmVocabulary.load(TestModels.qwen2Vocabulary());
        return shape.vocabularySize() > 0 ? vocabulary.padded(shape.vocabularySize()) : vocabulary;
    }

    private static GGUFWriter metadata(GlmDsaShape shape, QuantMix mix, String modelName, GlmVocabulary vocabulary) {
        GGUFWriter w = new GGUFWriter();
        String a = ARCHITECTURE + ".";
        w.putString("general.architecture", ARCHITECTURE)
                .putString("general.type", "model")
                .putString("general.name", modelName)
                .putString(TinyGlmDsa.GENERATOR_KEY, TestModels.fingerprint())
                .putUInt32("general.file_type", mix.fileType());
        if (mix.fileType() != FILE_TYPE_ALL_F32) {
            w.putUInt32("general.quantization_version", 2);
        }
        w.putUInt32(a + "block_count", shape.fileBlockCount())
                .putUInt32(a + "context_length", shape.contextLength())
                .putUInt32(a + "embedding_length", shape.embeddingLength())
                .putUInt32(a + "feed_forward_length", shape.feedForwardLength())
                .putUInt32(a + "attention.head_count", shape.headCount())
                .putUInt32(a + "attention.head_count_kv", 1)
                .putFloat32(a + "rope.freq_base", shape.ropeFreqBase())
                .putFloat32(a + "attention.layer_norm_rms_epsilon", shape.rmsNormEps())
                .putUInt32(a + "expert_used_count", shape.expertUsedCount())
                .putUInt32(a + "expert_gating_func", EXPERT_GATING_FUNC_SIGMOID)
                .putUInt32(a + "leading_dense_block_count", shape.leadingDenseBlockCount())
                .putUInt32(a + "vocab_size", vocabulary.size())
                .putUInt32(a + "attention.q_lora_rank", shape.qLoraRank())
                .putUInt32(a + "attention.kv_lora_rank", shape.kvLoraRank())
                .putUInt32(a + "attention.key_length", shape.keyLength())
                .putUInt32(a + "attention.value_length", shape.valueLength())
                .putUInt32(a + "attention.key_length_mla", shape.keyLengthMla())
                .putUInt32(a + "attention.value_length_mla", shape.valueLengthMla())
                .putUInt32(a + "expert_feed_forward_length", shape.expertFeedForwardLength())
                .putUInt32(a + "expert_count", shape.expertCount())
                .putUInt32(a + "expert_shared_count", shape.expertSharedCount())
                .putFloat32(a + "expert_weights_scale", shape.expertWeightsScale())
                .putBool(a + "expert_weights_norm", true)
                .putUInt32(a + "rope.dimension_count", shape.qkRopeHeadDim())
                .putUInt32(a + "nextn_predict_layers", shape.nextnBlockCount())
                .putUInt32(a + "attention.indexer.head_count", shape.indexerHeadCount())
                .putUInt32(a + "attention.indexer.key_length", shape.indexerKeyLength())
                .putUInt32(a + "attention.indexer.top_k", shape.indexerTopK());
        if (shape.indexerTypes() != null) {
            w.putArray(a + "attention.indexer.types", GGUFValueType.BOOL, shape.indexerTypes());
        }
        w.putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", "glm4")
                .putArray("tokenizer.ggml.tokens", GGUFValueType.STRING, vocabulary.tokens)
                .putArray("tokenizer.ggml.token_type", GGUFValueType.INT32, vocabulary.tokenTypes)
                .putArray("tokenizer.ggml.merges", GGUFValueType.STRING, vocabulary.merges)
                .putUInt32("tokenizer.ggml.eos_token_id", vocabulary.specialId("<|endoftext|>"))
                .putUInt32("tokenizer.ggml.padding_token_id", vocabulary.specialId("<|endoftext|>"))
                .putUInt32("tokenizer.ggml.bos_token_id", vocabulary.specialId("[gMASK]"))
                .putUInt32("tokenizer.ggml.eot_token_id", vocabulary.specialId("<|user|>"))
                .putUInt32("tokenizer.ggml.unknown_token_id", vocabulary.specialId("<|endoftext|>"))
                .putUInt32("tokenizer.ggml.eom_token_id", vocabulary.specialId("<|observation|>"))
                .putString("tokenizer.chat_template", chatTemplate());
        return w;
    }

    /** Every tensor, in the order llama.cpp's converter writes them: embeddings, blocks, MTP blocks, output norm and head. */
    static List<TensorSpec> tensors(GlmDsaShape s, int vocabularySize) {
        int embd = s.embeddingLength();
        List<TensorSpec> t = new ArrayList<>();
        t.add(new TensorSpec("token_embd.weight", Role.TOKEN_EMBD, -1, Weights.Init.EMBEDDING, embd, vocabularySize));
        for (int il = 0; il < s.blockCount(); il++) {
            t.addAll(blockTensors(s, il, s.isIndexerFull(il)));
        }
        for (int il = s.blockCount(); il < s.fileBlockCount(); il++) {
            t.addAll(nextnBlockTensors(s, il));
        }
        t.add(gain("output_norm.weight", -1, embd));
        t.add(matrix("output.weight", Role.OUTPUT, -1, embd, vocabularySize));
        return t;
    }

    /** The tensors of block {@code il}: attention, its indexer when {@code indexerFull}, and a dense or MoE FFN. */
    static List<TensorSpec> blockTensors(GlmDsaShape s, int il, boolean indexerFull) {
        int embd = s.embeddingLength();
        List<TensorSpec> t = new ArrayList<>();
        String b = "blk." + il + ".";
        t.add(gain(b + "attn_norm.weight", il, embd));
        t.add(matrix(b + "attn_q_a.weight", Role.ATTN_Q_A, il, embd, s.qLoraRank()));
        t.add(gain(b + "attn_q_a_norm.weight", il, s.qLoraRank()));
        t.add(matrix(b + "attn_q_b.weight", Role.ATTN_Q_B, il, s.qLoraRank(), (long) s.headCount() * s.keyLengthMla()));
        t.add(matrix(b + "attn_kv_a_mqa.weight", Role.ATTN_KV_A_MQA, il, embd, s.kvLoraRank() + s.qkRopeHeadDim()));
        t.add(gain(b + "attn_kv_a_norm.weight", il, s.kvLoraRank()));
        t.add(matrix(b + "attn_k_b.weight", Role.ATTN_K_B, il, s.qkNopeHeadDim(), s.kvLoraRank(), s.headCount()));
        t.add(matrix(b + "attn_v_b.weight", Role.ATTN_V_B, il, s.kvLoraRank(), s.valueLengthMla(), s.headCount()));
        t.add(matrix(b + "attn_output.weight", Role.ATTN_OUTPUT, il, (long) s.headCount() * s.valueLengthMla(), embd));
        if (indexerFull) {
            t.add(matrix(b + "indexer.attn_q_b.weight", Role.INDEXER_Q_B, il, s.qLoraRank(),
                    (long) s.indexerHeadCount() * s.indexerKeyLength()));
            t.add(matrix(b + "indexer.attn_k.weight", Role.INDEXER_K, il, embd, s.indexerKeyLength()));
            t.add(gain(b + "indexer.k_norm.weight", il, s.indexerKeyLength()));
            t.add(new TensorSpec(b + "indexer.k_norm.bias", Role.NORM, il, Weights.Init.BIAS, s.indexerKeyLength()));
            t.add(matrix(b + "indexer.proj.weight", Role.INDEXER_PROJ, il, embd, s.indexerHeadCount()));
        }
        t.add(gain(b + "ffn_norm.weight", il, embd));
        if (il < s.leadingDenseBlockCount()) {
            t.add(matrix(b + "ffn_gate.weight", Role.FFN_GATE_UP, il, embd, s.feedForwardLength()));
            t.add(matrix(b + "ffn_up.weight", Role.FFN_GATE_UP, il, embd, s.feedForwardLength()));
            t.add(matrix(b + "ffn_down.weight", Role.FFN_DOWN, il, s.feedForwardLength(), embd));
        } else {
            int experts = s.expertCount();
            int expertFf = s.expertFeedForwardLength();
            int shared = expertFf * s.expertSharedCount();
            t.add(matrix(b + "ffn_gate_inp.weight", Role.ROUTER, il, embd, experts));
            t.add(new TensorSpec(b + "exp_probs_b.bias", Role.NORM, il, Weights.Init.BIAS, experts));
            t.add(matrix(b + "ffn_gate_exps.weight", Role.EXPERT_GATE_UP, il, embd, expertFf, experts));
            t.add(matrix(b + "ffn_up_exps.weight", Role.EXPERT_GATE_UP, il, embd, expertFf, experts));
            t.add(matrix(b + "ffn_down_exps.weight", Role.EXPERT_DOWN, il, expertFf, embd, experts));
            t.add(matrix(b + "ffn_gate_shexp.weight", Role.SHARED_GATE_UP, il, embd, shared));
            t.add(matrix(b + "ffn_up_shexp.weight", Role.SHARED_GATE_UP, il, embd, shared));
            t.add(matrix(b + "ffn_down_shexp.weight", Role.SHARED_DOWN, il, shared, embd));
        }
        return t;
    }

    /**
     * The tensors of an MTP (NextN) block {@code il}, appended after the trunk: a MoE block with a full indexer, and
     * the NextN projection of the concatenated embedding and hidden state with its norms.
     */
    static List<TensorSpec> nextnBlockTensors(GlmDsaShape s, int il) {
        int embd = s.embeddingLength();
        String b = "blk." + il + ".nextn.";
        List<TensorSpec> t = new ArrayList<>(blockTensors(s, il, true));
        t.add(matrix(b + "eh_proj.weight", Role.NEXTN_PROJ, il, 2L * embd, embd));
        t.add(gain(b + "enorm.weight", il, embd));
        t.add(gain(b + "hnorm.weight", il, embd));
        t.add(gain(b + "shared_head_norm.weight", il, embd));
        return t;
    }

    private static TensorSpec matrix(String name, Role role, int block, long... shape) {
        return new TensorSpec(name, role, block, Weights.Init.MATRIX, shape);
    }

    private static TensorSpec gain(String name, int block, long length) {
        return new TensorSpec(name, Role.NORM, block, Weights.Init.GAIN, length);
    }

    /** The bytes made so far against all the model's, told to the {@link Progress} one report at a time. */
    private record Made(long total, Progress progress, AtomicLong bytes) {
        Made(long total, Progress progress) {
            this(total, progress, new AtomicLong());
        }

        void add(long made) {
            long done = bytes.addAndGet(made);
            synchronized (progress) {
                progress.madeBytes(done, total);
            }
        }
    }

    /**
     * The data of every tensor not made of random blocks (null for those), generated on every core into
     * {@code arena}, biggest first, so that no thread is left with a large tensor while the others idle at the end.
     */
    private static MemorySegment[] generateFromFloats(List<TensorSpec> specs, GGMLType[] types, boolean[] randomBlocks,
            long seed, Arena arena, Made made) {
        MemorySegment[] data = new MemorySegment[specs.size()];
        List<Integer> order = new ArrayList<>(specs.size());
        for (int i = 0; i < data.length; i++) {
            if (!randomBlocks[i]) {
                data[i] = arena.allocate(types[i].byteSize(specs.get(i).elementCount()), 64);
                order.add(i);
            }
        }
        order.sort((x, y) -> Long.compare(data[y].byteSize(), data[x].byteSize()));
        List<Runnable> tasks = new ArrayList<>();
        for (int i : order) {
            tasks.add(() -> {
                generate(specs.get(i), types[i], seed, data[i]);
                made.add(data[i].byteSize());
            });
        }
        runOnEveryCore(tasks);
        return data;
    }

    /**
     * Fills {@code target} with random blocks of {@code type} at the tensor's scale, on every core, in chunks of
     * {@link #CHUNK_BYTES} each drawn from a stream of its own.
     */
    private static void fillRandomBlocks(TensorSpec spec, GGMLType type, long seed, MemorySegment target, Made made) {
        long blocksPerChunk = CHUNK_BYTES / type.typeSize;
        long blocks = target.byteSize() / type.typeSize;
        double rms = Weights.standardDeviation(spec.init(), spec.shape()[0]);
        List<Runnable> tasks = new ArrayList<>();
        for (long first = 0, chunk = 0; first < blocks; first += blocksPerChunk, chunk++) {
            MemorySegment part = target.asSlice(first * type.typeSize, Math.min(blocksPerChunk, blocks - first) * type.typeSize);
            String stream = spec.name() + "#" + chunk;
            tasks.add(() -> {
                RandomBlocks.fill(type, part, rms, Weights.stream(stream, seed));
                made.add(part.byteSize());
            });
        }
        runOnEveryCore(tasks);
    }

    /** Runs {@code tasks} on as many threads as there are cores, in order as threads come free; rethrows a failure. */
    static void runOnEveryCore(List<Runnable> tasks) {
        List<Future<?>> pending = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors())) {
            for (Runnable task : tasks) {
                pending.add(pool.submit(task));
            }
            for (Future<?> task : pending) {
                task.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating tensors", e);
        }
    }

    /** Fills {@code data} with the tensor's weights as {@code type}, row chunk by row chunk from its own random stream. */
    private static void generate(TensorSpec spec, GGMLType type, long seed, MemorySegment data) {
        long rowLength = spec.shape()[0];
        long count = spec.elementCount();
        SplittableRandom random = Weights.stream(spec.name(), seed);
        int rowsPerChunk = (int) Math.max(1, CHUNK_WEIGHTS / rowLength);
        float[] chunk = new float[(int) Math.min(count, rowsPerChunk * rowLength)];
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(chunk.length, count - done);
            Weights.fill(random, spec.init(), rowLength, chunk, n);
            if (type == GGMLType.F32) {
                MemorySegment.copy(chunk, 0, data, FLOAT_LE, done * Float.BYTES, n);
            } else {
                Quantizer.quantize(type, chunk, 0, data, type.byteSize(done), n);
            }
            done += n;
        }
    }

    static String chatTemplate() {
        try (InputStream in = GlmDsaGenerator.class.getClassLoader().getResourceAsStream(CHAT_TEMPLATE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + CHAT_TEMPLATE_RESOURCE + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).stripTrailing();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
