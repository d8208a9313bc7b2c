package glmj.llamacpp;

import glmj.engine.Engine;
import glmj.generate.ChunkLogits;
import glmj.generate.ContextFullException;
import glmj.generate.History;
import glmj.generate.Processing;
import glmj.generate.Session;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * llama.cpp v0.5.0 running a whole GGUF model (Metal on Macs, the CPU elsewhere): the reference glmj's engine is
 * compared with, and an engine of its own for {@code --engine llama}. Each session is a llama.cpp context of its own.
 */
public final class LlamaEngine implements Engine {
    /** llama_decode's status when its abort callback stopped it. */
    private static final int DECODE_ABORTED = 2;
    private static final BooleanSupplier NEVER = () -> false;
    private static final boolean CPU_HAS_AMX = cpuHasAmx();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final int contextSize;
    private final int batchSize;
    private final int threads;
    private final int vocabularySize;

    /**
     * Loads {@code shards} (one file, or every shard of a split set in order) for contexts of {@code contextSize}
     * tokens (0: the model's own), processing prompts in batches of {@code batchSize} on {@code threads} threads; with
     * {@code plainKernels} every matmul takes ggml's plain kernels, else llama.cpp's defaults ({@link #modelParams}).
     */
    public LlamaEngine(List<Path> shards, int contextSize, int batchSize, int threads, boolean plainKernels) {
        LlamaLibrary.load();
        MemorySegment modelParams = modelParams(arena, plainKernels);
        Llama.llama_model_params.n_gpu_layers(modelParams, 999);
        model = loadModel(arena, shards, modelParams);
        if (model.equals(MemorySegment.NULL)) {
            arena.close();
            throw new LlamaLibraryException("llama.cpp could not load " + shards.getFirst() + " (its log above says why)");
        }
        this.vocabularySize = Llama.llama_vocab_n_tokens(Llama.llama_model_get_vocab(model));
        int trained = Llama.llama_model_n_ctx_train(model);
        this.contextSize = contextSize > 0 ? contextSize : trained;
        this.batchSize = batchSize;
        this.threads = threads;
    }

    /**
     * Model parameters as glmj loads models into llama.cpp: its defaults, whose CPU "extra buffer types" repack weights
     * for its prompt kernels (which round otherwise), unless {@code plainKernels} asks for ggml's plain {@code vec_dot}
     * path, the one glmj's exact kernels equal. Not on AMX CPUs (Sapphire Rapids) either: there v0.5.0 repacks
     * glm-dsa's q4_K, q5_K, q6_K, q8_0 and iq4_xs attention weights for AMX and then aborts building the decode graph.
     */
    static MemorySegment modelParams(Arena arena, boolean plainKernels) {
        MemorySegment params = Llama.llama_model_default_params(arena);
        Llama.llama_model_params.use_extra_bufts(params, !plainKernels && !CPU_HAS_AMX);
        return params;
    }

    /**
     * Whether this CPU has AMX tiles ({@code amx_tile} in Linux's {@code /proc/cpuinfo}), for which llama.cpp's CPU
     * backend repacks weights; read from the OS, so that the engine does not depend on finding a {@code libggml-cpu}
     * variant ({@link GgmlCpu}). False where the file cannot be read.
     */
    static boolean cpuHasAmx() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        try {
            return Files.isReadable(cpuinfo) && Files.readString(cpuinfo).contains(" amx_tile");
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code shards} (one file, or every shard of a split set in order) loaded with {@code modelParams}; NULL if llama.cpp refuses. */
    static MemorySegment loadModel(Arena arena, List<Path> shards, MemorySegment modelParams) {
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
    static MemorySegment contextParams(Arena arena, int contextSize, int batchSize, int threads) {
        MemorySegment params = Llama.llama_context_default_params(arena);
        Llama.llama_context_params.n_ctx(params, contextSize);
        Llama.llama_context_params.n_batch(params, batchSize);
        Llama.llama_context_params.n_ubatch(params, batchSize);
        Llama.llama_context_params.n_threads(params, threads);
        Llama.llama_context_params.n_threads_batch(params, threads);
        return params;
    }

    @Override
    public int contextSize() {
        return contextSize;
    }

    @Override
    public Session newSession() {
        return new LlamaSession();
    }

    /** Chunks as llama-perplexity batches them: batch size over chunk length chunks share each batch as sequences. */
    @Override
    public ChunkLogits chunkLogits(int chunkLength) {
        return new LlamaChunkLogits(model, vocabularySize, chunkLength, batchSize, threads);
    }

    @Override
    public void close() {
        Llama.llama_model_free(model);
        arena.close();
    }

    /** A session: one llama.cpp context and the tokens it holds. */
    private final class LlamaSession implements Session {
        private final Arena sessionArena = Arena.ofShared();
        private final MemorySegment context;
        private final int sessionContext;
        private final int sessionBatch;
        private final MemorySegment batchTokens;
        /** Where llama_batch_get_one's struct result lands, reused so that decoding allocates nothing. */
        private final SegmentAllocator batchStruct;
        private final float[] logits = new float[vocabularySize];
        private final History history;
        /** A batch of llama.cpp's own, for the calls that keep every position's logits; made when first needed. */
        private MemorySegment fullBatch;
        private int position;
        /** What llama.cpp's abort callback asks during a decode: the cancellation of the forward call under way. */
        private volatile BooleanSupplier cancelled = NEVER;

        LlamaSession() {
            context = Llama.llama_init_from_model(model, contextParams(sessionArena, contextSize, batchSize, threads));
            if (context.equals(MemorySegment.NULL)) {
                sessionArena.close();
                throw new LlamaLibraryException("llama.cpp could not create a context of " + contextSize + " tokens");
            }
            // llama.cpp rounds the context up (to 256); the session holds to the size asked for.
            this.sessionContext = Math.min(contextSize, Llama.llama_n_ctx(context));
            this.sessionBatch = Llama.llama_n_batch(context);
            this.batchTokens = sessionArena.allocate(JAVA_INT, sessionBatch);
            this.batchStruct = SegmentAllocator.prefixAllocator(sessionArena.allocate(Llama.llama_batch.LAYOUT));
            this.history = new History(sessionContext);
            Llama.llama_set_abort_callback(context, Ggml.ggml_abort_callback.allocate(data -> stops(), sessionArena), MemorySegment.NULL);
        }

        @Override
        public int vocabularySize() {
            return vocabularySize;
        }

        @Override
        public int contextSize() {
            return sessionContext;
        }

        @Override
        public int position() {
            return position;
        }

        @Override
        public float[] forward(int[] tokens, int offset, int count, Processing how) {
            if (position + count > sessionContext) {
                throw new ContextFullException(position, count, sessionContext);
            }
            for (int done = 0; done < count; ) {
                if (how.cancelled().getAsBoolean()) {
                    throw new CancellationException("cancelled after " + done + " of " + count + " tokens");
                }
                int batch = Math.min(sessionBatch, count - done);
                int status = decode(tokens, offset + done, batch, how);
                if (status == DECODE_ABORTED) {
                    // llama.cpp has removed the batch's entries from the cache again
                    throw new CancellationException("cancelled within a batch after " + done + " of " + count + " tokens");
                }
                if (status != 0) {
                    throw new IllegalStateException("llama_decode failed with status " + status + " at position " + position);
                }
                history.record(tokens, offset + done, batch, position);
                if (how.allLogits() != null) {
                    for (int i = 0; i < batch; i++) {
                        MemorySegment row = Llama.llama_get_logits_ith(context, i).reinterpret((long) vocabularySize * Float.BYTES);
                        MemorySegment.copy(row, JAVA_FLOAT, 0, how.allLogits(), (done + i) * vocabularySize, vocabularySize);
                    }
                }
                position += batch;
                done += batch;
                how.progress().accept(done);
            }
            MemorySegment last = Llama.llama_get_logits_ith(context, -1).reinterpret((long) vocabularySize * Float.BYTES);
            MemorySegment.copy(last, JAVA_FLOAT, 0, logits, 0, vocabularySize);
            return logits;
        }

        /** llama_decode of {@code count} tokens from {@code from}, stopping (status 2) when {@code how} is cancelled. */
        private int decode(int[] tokens, int from, int count, Processing how) {
            cancelled = how.cancelled();
            try {
                return how.allLogits() != null ? decodeKeepingLogits(tokens, from, count)
                        : Llama.llama_decode(context, oneBatch(tokens, from, count));
            } finally {
                cancelled = NEVER;
                LlamaLibrary.quiet(false);
            }
        }

        /** llama.cpp's abort callback: whether to stop the decode under way, after which its error log is dropped. */
        private boolean stops() {
            boolean stop = cancelled.getAsBoolean();
            if (stop) {
                LlamaLibrary.quiet(true);
            }
            return stop;
        }

        /** A batch of {@code count} tokens from {@code from} whose last position alone gives logits. */
        private MemorySegment oneBatch(int[] tokens, int from, int count) {
            MemorySegment.copy(tokens, from, batchTokens, JAVA_INT, 0, count);
            return Llama.llama_batch_get_one(batchStruct, batchTokens, count);
        }

        /** Decodes {@code count} tokens from {@code from} keeping every position's logits, in a batch of llama.cpp's own. */
        private int decodeKeepingLogits(int[] tokens, int from, int count) {
            if (fullBatch == null) {
                fullBatch = Llama.llama_batch_init(sessionArena, sessionBatch, 0, 1);
                MemorySegment sequenceCounts = Llama.llama_batch.array(fullBatch, "n_seq_id", sessionBatch, JAVA_INT);
                MemorySegment sequences = Llama.llama_batch.array(fullBatch, "seq_id", sessionBatch, ADDRESS);
                for (int i = 0; i < sessionBatch; i++) {
                    sequenceCounts.setAtIndex(JAVA_INT, i, 1);
                    sequences.getAtIndex(ADDRESS, i).reinterpret(JAVA_INT.byteSize()).set(JAVA_INT, 0, 0);
                }
            }
            MemorySegment ids = Llama.llama_batch.array(fullBatch, "token", sessionBatch, JAVA_INT);
            MemorySegment positions = Llama.llama_batch.array(fullBatch, "pos", sessionBatch, JAVA_INT);
            MemorySegment outputs = Llama.llama_batch.array(fullBatch, "logits", sessionBatch, JAVA_BYTE);
            for (int i = 0; i < count; i++) {
                ids.setAtIndex(JAVA_INT, i, tokens[from + i]);
                positions.setAtIndex(JAVA_INT, i, position + i);
                outputs.set(JAVA_BYTE, i, (byte) 1);
            }
            Llama.llama_batch.n_tokens(fullBatch, count);
            return Llama.llama_decode(context, fullBatch);
        }

        @Override
        public void truncate(int newPosition) {
            if (newPosition < 0 || newPosition > position) {
                throw new IllegalArgumentException("cannot truncate a context of " + position + " tokens to " + newPosition);
            }
            Llama.llama_memory_seq_rm(Llama.llama_get_memory(context), 0, newPosition, -1);
            position = newPosition;
        }

        /** Through llama.cpp's sequence state, which checks the layout (layers, types and widths of the cache's rows). */
        @Override
        public void copyContextFrom(Session source) {
            if (!(source instanceof LlamaSession other)) {
                throw new IllegalArgumentException("llama.cpp cannot take the context of " + source.getClass().getSimpleName());
            }
            if (other.position > sessionContext) {
                throw new IllegalArgumentException("a context of " + other.position + " tokens does not fit in one of " + sessionContext);
            }
            try (Arena scratch = Arena.ofConfined()) {
                long size = Llama.llama_state_seq_get_size(other.context, 0);
                MemorySegment state = scratch.allocate(size);
                long written = Llama.llama_state_seq_get_data(other.context, state, size, 0);
                truncate(0);
                if (written != size || Llama.llama_state_seq_set_data(context, state, size, 0) == 0) {
                    throw new IllegalArgumentException("llama.cpp could not move the context of " + other.position
                            + " tokens into this model's (its log above says why: a cache of another layout)");
                }
            }
            position = other.position;
            history.recordUnknown(position, 0);
        }

        @Override
        public int keepCommonPrefix(int[] tokens) {
            int kept = history.commonPrefix(tokens, position);
            truncate(kept);
            return kept;
        }

        @Override
        public void close() {
            if (fullBatch != null) {
                Llama.llama_batch_free(fullBatch);
            }
            Llama.llama_free(context);
            sessionArena.close();
        }
    }
}
