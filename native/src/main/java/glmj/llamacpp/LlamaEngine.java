package glmj.llamacpp;

import glmj.generate.ContextFullException;
import glmj.generate.LanguageModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * llama.cpp v0.5.0 running a whole GGUF model (Metal on Macs, the CPU elsewhere): the reference glmj's engine is
 * compared with, and an engine of its own for {@code --engine llama}.
 */
public final class LlamaEngine implements LanguageModel {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final MemorySegment context;
    private final int vocabularySize;
    private final int contextSize;
    private final int batchSize;
    private final MemorySegment batchTokens;
    /** Where llama_batch_get_one's struct result lands, reused so that decoding allocates nothing. */
    private final SegmentAllocator batchStruct;
    private final float[] logits;
    private int position;

    /**
     * Loads {@code shards} (one file, or every shard of a split set in order) with a context of {@code contextSize}
     * tokens (0: the model's own), processing prompts in batches of {@code batchSize} on {@code threads} threads.
     */
    public LlamaEngine(List<Path> shards, int contextSize, int batchSize, int threads) {
        LlamaLibrary.load();
        MemorySegment modelParams = modelParams(arena);
        Llama.llama_model_params.n_gpu_layers(modelParams, 999);
        model = loadModel(arena, shards, modelParams);
        if (model.equals(MemorySegment.NULL)) {
            arena.close();
            throw new LlamaLibraryException("llama.cpp could not load " + shards.getFirst() + " (its log above says why)");
        }
        context = Llama.llama_init_from_model(model, contextParams(arena, contextSize, batchSize, threads));
        if (context.equals(MemorySegment.NULL)) {
            Llama.llama_model_free(model);
            arena.close();
            throw new LlamaLibraryException("llama.cpp could not create a context of " + contextSize + " tokens for " + shards.getFirst());
        }
        this.vocabularySize = Llama.llama_vocab_n_tokens(Llama.llama_model_get_vocab(model));
        // llama.cpp rounds the context up (to 256); the engine holds to the size asked for.
        this.contextSize = contextSize > 0 ? Math.min(contextSize, Llama.llama_n_ctx(context)) : Llama.llama_n_ctx(context);
        this.batchSize = Llama.llama_n_batch(context);
        this.batchTokens = arena.allocate(JAVA_INT, this.batchSize);
        this.batchStruct = SegmentAllocator.prefixAllocator(arena.allocate(Llama.llama_batch.LAYOUT));
        this.logits = new float[vocabularySize];
    }

    /**
     * Model parameters as glmj loads models into llama.cpp: its defaults, without the CPU "extra buffer types" that
     * repack weights for AMX and other kernels. On an AMX machine (Sapphire Rapids) v0.5.0 repacks glm-dsa's q4_K,
     * q5_K, q6_K, q8_0 and iq4_xs attention weights for AMX and then aborts building the decode graph; without the
     * repacking every CPU matmul takes ggml's plain {@code vec_dot} path on any machine.
     */
    public static MemorySegment modelParams(Arena arena) {
        MemorySegment params = Llama.llama_model_default_params(arena);
        Llama.llama_model_params.use_extra_bufts(params, false);
        return params;
    }

    /** {@code shards} (one file, or every shard of a split set in order) loaded with {@code modelParams}; NULL if llama.cpp refuses. */
    public static MemorySegment loadModel(Arena arena, List<Path> shards, MemorySegment modelParams) {
        MemorySegment paths = arena.allocate(ADDRESS, shards.size());
        for (int i = 0; i < shards.size(); i++) {
            paths.setAtIndex(ADDRESS, i, arena.allocateFrom(shards.get(i).toString()));
        }
        return Llama.llama_model_load_from_splits(paths, shards.size(), modelParams);
    }

    /**
     * Context parameters as glmj runs llama.cpp: {@code contextSize} positions (0: the model's own), batches of
     * {@code batchSize} tokens computed as one ubatch, and {@code threads} threads for prompts and generation alike.
     */
    public static MemorySegment contextParams(Arena arena, int contextSize, int batchSize, int threads) {
        MemorySegment params = Llama.llama_context_default_params(arena);
        Llama.llama_context_params.n_ctx(params, contextSize);
        Llama.llama_context_params.n_batch(params, batchSize);
        Llama.llama_context_params.n_ubatch(params, batchSize);
        Llama.llama_context_params.n_threads(params, threads);
        Llama.llama_context_params.n_threads_batch(params, threads);
        return params;
    }

    @Override
    public int vocabularySize() {
        return vocabularySize;
    }

    @Override
    public int contextSize() {
        return contextSize;
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public float[] forward(int[] tokens, int offset, int count) {
        if (position + count > contextSize) {
            throw new ContextFullException(position, count, contextSize);
        }
        for (int done = 0; done < count; ) {
            int batch = Math.min(batchSize, count - done);
            MemorySegment.copy(tokens, offset + done, batchTokens, JAVA_INT, 0, batch);
            int status = Llama.llama_decode(context, Llama.llama_batch_get_one(batchStruct, batchTokens, batch));
            if (status != 0) {
                throw new IllegalStateException("llama_decode failed with status " + status + " at position " + position);
            }
            position += batch;
            done += batch;
        }
        MemorySegment last = Llama.llama_get_logits_ith(context, -1).reinterpret((long) vocabularySize * Float.BYTES);
        MemorySegment.copy(last, JAVA_FLOAT, 0, logits, 0, vocabularySize);
        return logits;
    }

    @Override
    public void truncate(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot truncate a context of " + position + " tokens to " + newPosition);
        }
        Llama.llama_memory_seq_rm(Llama.llama_get_memory(context), 0, newPosition, -1);
        position = newPosition;
    }

    @Override
    public void close() {
        Llama.llama_free(context);
        Llama.llama_model_free(model);
        arena.close();
    }
}
