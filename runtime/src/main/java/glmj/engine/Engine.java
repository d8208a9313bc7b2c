package glmj.engine;

import glmj.generate.ChunkLogits;
import glmj.generate.LayerByLayer;
import glmj.generate.Session;

/** A loaded model on one engine: its weights, once, and the sessions it hands out, each with a context of its own. */
public interface Engine extends AutoCloseable {

    /** A new session with an empty context of {@link #contextSize()} tokens. */
    Session newSession();

    /** Tokens each session's context holds at most. */
    int contextSize();

    /** Logits of chunks of {@code chunkLength} tokens, each from an empty context, for quality runs. */
    ChunkLogits chunkLogits(int chunkLength);

    /**
     * Logits of chunks of {@code chunkLength} tokens, every chunk of a pass layer by layer ({@link LayerByLayer}).
     *
     * @throws UnsupportedOperationException when the engine runs whole models only
     */
    default ChunkLogits chunkLogits(int chunkLength, LayerByLayer layered) {
        throw new UnsupportedOperationException("this engine runs chunks through the whole model; glmj's own runs them layer by layer");
    }

    @Override
    void close();
}
