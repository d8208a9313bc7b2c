package glmj.engine;

import glmj.generate.Session;

/** A loaded model on one engine: its weights, once, and the sessions it hands out, each with a context of its own. */
public interface Engine extends AutoCloseable {

    /** A new session with an empty context of {@link #contextSize()} tokens. */
    Session newSession();

    /** Tokens each session's context holds at most. */
    int contextSize();

    @Override
    void close();
}
