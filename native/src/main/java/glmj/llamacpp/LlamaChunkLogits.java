package glmj.llamacpp;

import glmj.generate.ChunkLogits;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * llama.cpp v0.5.0 for quality runs, batched exactly as llama-perplexity batches a KL-divergence run (its
 * {@code perplexity()} and {@code kl_divergence()}): {@code n_seq = max(1, batch / chunk length)} chunks share a batch
 * as sequences 0 to n_seq - 1, in a context of {@code n_seq} chunk lengths with as many sequences; a chunk longer than
 * the batch takes several batches; only positions from the first wanted one ask for logits; micro-batches of
 * llama-perplexity's default 512 tokens. llama.cpp's logits depend on that layout, so a base file and the runs compared
 * with it should share it. The weights are {@link LlamaEngine}'s, not repacked: the plain {@code vec_dot} kernels glmj's
 * are checked against (llama-perplexity's {@code --no-repack}).
 */
final class LlamaChunkLogits implements ChunkLogits {
    /** llama-perplexity's micro-batch (common's default {@code n_ubatch}). */
    static final int UBATCH = 512;
    /** Logits rows copied out of llama.cpp's buffer per {@link Sink#accept} call. */
    private static final int ROWS_PER_CALL = 64;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment context;
    private final int vocabularySize;
    private final int chunkLength;
    private final int sequences;
    private final int batchSize;
    private final MemorySegment batch;
    private final MemorySegment batchTokens;
    private final MemorySegment batchPositions;
    private final MemorySegment batchSequences;
    private final MemorySegment batchOutputs;
    private final float[] rows;

    /**
     * A context of {@code model} (whose vocabulary has {@code vocabularySize} tokens) for chunks of {@code chunkLength}
     * tokens in batches of {@code batchSize} on {@code threads} threads.
     */
    LlamaChunkLogits(MemorySegment model, int vocabularySize, int chunkLength, int batchSize, int threads) {
        this.chunkLength = chunkLength;
        this.sequences = Math.max(1, batchSize / chunkLength);
        this.batchSize = Math.min(batchSize, chunkLength * sequences);
        this.vocabularySize = vocabularySize;
        MemorySegment contextParams = LlamaEngine.contextParams(arena, chunkLength * sequences, this.batchSize, threads);
        Llama.llama_context_params.n_ubatch(contextParams, Math.min(UBATCH, this.batchSize));
        Llama.llama_context_params.n_seq_max(contextParams, sequences);
        context = Llama.llama_init_from_model(model, contextParams);
        if (context.equals(MemorySegment.NULL)) {
            arena.close();
            throw new LlamaLibraryException("llama.cpp could not create a context of " + sequences + " x " + chunkLength + " tokens");
        }
        batch = Llama.llama_batch_init(arena, this.batchSize, 0, 1);
        batchTokens = Llama.llama_batch.array(batch, "token", this.batchSize, JAVA_INT);
        batchPositions = Llama.llama_batch.array(batch, "pos", this.batchSize, JAVA_INT);
        batchSequences = Llama.llama_batch.array(batch, "seq_id", this.batchSize, ADDRESS);
        batchOutputs = Llama.llama_batch.array(batch, "logits", this.batchSize, JAVA_BYTE);
        MemorySegment sequenceCounts = Llama.llama_batch.array(batch, "n_seq_id", this.batchSize, JAVA_INT);
        for (int i = 0; i < this.batchSize; i++) {
            sequenceCounts.setAtIndex(JAVA_INT, i, 1);
        }
        rows = new float[ROWS_PER_CALL * vocabularySize];
    }

    @Override
    public int vocabularySize() {
        return vocabularySize;
    }

    @Override
    public int chunkLength() {
        return chunkLength;
    }

    @Override
    public int chunksPerPass() {
        return sequences;
    }

    @Override
    public void evaluate(int[] tokens, int offset, int chunks, int firstOutput, Sink sink) {
        if (chunks < 1 || chunks > sequences) {
            throw new IllegalArgumentException(chunks + " chunks in a pass of at most " + sequences);
        }
        Llama.llama_memory_clear(Llama.llama_get_memory(context), true);
        for (int from = 0; from < chunkLength; from += batchSize) {
            int count = Math.min(chunkLength - from, batchSize);
            int outputs = 0;
            for (int chunk = 0; chunk < chunks; chunk++) {
                for (int k = 0; k < count; k++) {
                    int i = chunk * count + k;
                    int position = from + k;
                    batchTokens.setAtIndex(JAVA_INT, i, tokens[offset + chunk * chunkLength + position]);
                    batchPositions.setAtIndex(JAVA_INT, i, position);
                    batchSequences.getAtIndex(ADDRESS, i).reinterpret(JAVA_INT.byteSize()).set(JAVA_INT, 0, chunk);
                    boolean wanted = position >= firstOutput;
                    batchOutputs.set(JAVA_BYTE, i, (byte) (wanted ? 1 : 0));
                    outputs += wanted ? 1 : 0;
                }
            }
            Llama.llama_batch.n_tokens(batch, chunks * count);
            int status = Llama.llama_decode(context, batch);
            if (status != 0) {
                throw new IllegalStateException("llama_decode failed with status " + status + " on " + chunks
                        + " chunks at position " + from);
            }
            if (outputs > 0) {
                handOver(chunks, from, count, firstOutput, outputs, sink);
            }
        }
    }

    /** Copies a decoded batch's logits out of llama.cpp's buffer (its outputs, in batch order) to {@code sink}. */
    private void handOver(int chunks, int from, int count, int firstOutput, int outputs, Sink sink) {
        MemorySegment all = Llama.llama_get_logits(context).reinterpret((long) outputs * vocabularySize * Float.BYTES);
        int first = Math.max(firstOutput, from);
        int perChunk = from + count - first;
        for (int chunk = 0; chunk < chunks; chunk++) {
            for (int done = 0; done < perChunk; done += ROWS_PER_CALL) {
                int n = Math.min(ROWS_PER_CALL, perChunk - done);
                long row = (long) chunk * perChunk + done;
                MemorySegment.copy(all, JAVA_FLOAT, row * vocabularySize * Float.BYTES, rows, 0, n * vocabularySize);
                sink.accept(chunk, first + done, n, rows, 0);
            }
        }
    }

    @Override
    public void close() {
        Llama.llama_batch_free(batch);
        Llama.llama_free(context);
        arena.close();
    }
}
