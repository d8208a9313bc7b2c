package glmj.generate;

/**
 * What a quality run needs of an engine: the logits of every position of chunks of tokens from some position on, each
 * chunk run from position 0 of an empty context, as llama-perplexity runs its chunks. Engines hand them out
 * ({@link glmj.engine.Model#chunkLogits}): glmj's own chunk after chunk, or layer by layer over every chunk at once
 * ({@link LayerByLayer}); llama.cpp's with several chunks sharing each batch as sequences, as llama-perplexity batches.
 */
public interface ChunkLogits extends AutoCloseable {

    /** Entries in a logits row. */
    int vocabularySize();

    /** Tokens per chunk. */
    int chunkLength();

    /**
     * Chunks one {@link #evaluate} call runs together: as sequences sharing each batch (llama-perplexity's
     * {@code n_seq}, its batch size over the chunk length), every chunk of a run layer by layer, or 1.
     */
    int chunksPerPass();

    /**
     * Runs {@code chunks} (at most {@link #chunksPerPass()}) chunks of {@link #chunkLength()} tokens, one after
     * another in {@code tokens} from {@code offset}, and hands {@code sink} the logits of each chunk's positions from
     * {@code firstOutput} to its end: chunk after chunk, each in order of position, in runs of consecutive positions.
     */
    void evaluate(int[] tokens, int offset, int chunks, int firstOutput, Sink sink);

    /** Receives logits as an engine computes them. */
    @FunctionalInterface
    interface Sink {
        /**
         * The logits of positions {@code [position, position + count)} of chunk {@code chunk} of the pass, row after row
         * ({@link #vocabularySize()} floats each) from {@code logits[offset]}; the array is the engine's, reused after
         * the call returns.
         */
        void accept(int chunk, int position, int count, float[] logits, int offset);
    }

    @Override
    void close();
}
