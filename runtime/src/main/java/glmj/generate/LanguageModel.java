package glmj.generate;

/**
 * A causal language model with its context (the KV cache) inside: tokens go in at the current position, logits for
 * the next token come out. glmj's own glm-dsa engine and the llama.cpp engine both implement it, so the commands and
 * the comparisons run either.
 */
public interface LanguageModel extends AutoCloseable {

    /** Entries in a logits vector. */
    int vocabularySize();

    /** How many tokens the context holds at most. */
    int contextSize();

    /** How many tokens the context holds now: the position the next token will take. */
    int position();

    /**
     * Appends {@code count} tokens of {@code tokens} from {@code offset} to the context, processing them as one or more
     * batches, and returns the logits that follow the last one. The array is the model's own buffer, valid until the
     * next call.
     *
     * @throws ContextFullException when the tokens do not fit in what is left of the context
     */
    float[] forward(int[] tokens, int offset, int count);

    /** Forgets every token from {@code position} on; {@code 0} empties the context. */
    void truncate(int position);

    @Override
    void close();
}
