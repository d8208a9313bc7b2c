package glmj.generate;

import java.util.concurrent.CancellationException;

/**
 * One conversation's context in a loaded model (its KV cache inside): tokens go in at the current position, logits for
 * the next token come out. Sessions of one model share its weights, each with a cache of its own; they run one at a
 * time. glmj's own glm-dsa engine and the llama.cpp engine both hand them out, so the commands and the comparisons run
 * either.
 */
public interface Session extends AutoCloseable {

    /** Entries in a logits vector. */
    int vocabularySize();

    /** How many tokens the context holds at most. */
    int contextSize();

    /** How many tokens the context holds now: the position the next token will take. */
    int position();

    /**
     * Appends {@code count} tokens of {@code tokens} from {@code offset} to the context, processing them as one or more
     * batches, and returns the logits that follow the last one. The array is the session's own buffer, valid until
     * the next call.
     *
     * @throws ContextFullException when the tokens do not fit in what is left of the context
     */
    default float[] forward(int[] tokens, int offset, int count) {
        return forward(tokens, offset, count, Processing.PLAIN);
    }

    /**
     * {@link #forward(int[], int, int)} as {@code how} asks: every position's logits, a cancellation check between
     * batches (and between layers where the engine can), progress after each batch.
     *
     * @throws CancellationException when cancelled: the context then holds the batches finished before
     */
    float[] forward(int[] tokens, int offset, int count, Processing how);

    /**
     * Replaces this context with a copy of {@code source}'s: its positions and cache. {@code source} is a session of the
     * same engine on a model whose cache has the same layout, possibly a far narrower one, as {@code glmj bench
     * --fill-model} fills a great depth with. Which tokens it holds is not copied: no later prompt shares a prefix with them.
     *
     * @throws IllegalArgumentException when {@code source} is another engine's or its model's cache has another layout
     */
    void copyContextFrom(Session source);

    /** Forgets every token from {@code position} on; {@code 0} empties the context. */
    void truncate(int position);

    /**
     * Keeps the longest part of the context that {@code tokens} begin with, short of all of {@code tokens} (so one is
     * left to process for the next logits), and forgets the rest; returns how many tokens it kept.
     */
    int keepCommonPrefix(int[] tokens);

    @Override
    void close();
}
