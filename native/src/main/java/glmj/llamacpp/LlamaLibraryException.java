package glmj.llamacpp;

/** The llama.cpp libraries are missing, unloadable, or of a version glmj is not checked against; or llama.cpp refused a model. */
public final class LlamaLibraryException extends RuntimeException {
    public LlamaLibraryException(String message) {
        super(message);
    }

    LlamaLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
