package glmj.engine;

/** An engine or kernel backend cannot run here (its native libraries are missing or of another version); one line. */
public class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
