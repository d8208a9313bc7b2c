package glmj.llamacpp;

import glmj.engine.BackendUnavailableException;

/** The llama.cpp libraries are missing, unloadable, or of a version glmj is not checked against. */
public final class LlamaLibraryException extends BackendUnavailableException {
    LlamaLibraryException(String message) {
        super(message);
    }

    LlamaLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
