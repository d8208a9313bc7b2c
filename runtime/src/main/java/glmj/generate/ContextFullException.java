package glmj.generate;

/** The tokens to process do not fit in what is left of the model's context. */
public final class ContextFullException extends RuntimeException {
    public ContextFullException(int position, int adding, int contextSize) {
        super("the context is full: " + position + " tokens held + " + adding + " new > " + contextSize
                + " (start over, or raise the context size with -c)");
    }
}
