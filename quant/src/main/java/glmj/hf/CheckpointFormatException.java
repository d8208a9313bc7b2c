package glmj.hf;

import glmj.gguf.GGUFFormatException;

import java.nio.file.Path;

/**
 * A Hugging Face checkpoint is malformed, or lacks or holds something glmj cannot use. The message is one line:
 * {@code FILE: what}, naming the tensor where there is one.
 */
public class CheckpointFormatException extends RuntimeException {
    private final transient Path file;

    public CheckpointFormatException(Path file, String what) {
        super(file + ": " + GGUFFormatException.oneLine(what));
        this.file = file;
    }

    /** The file (or directory) the problem is in. */
    public Path file() {
        return file;
    }

    /** A name taken from a file, quoted for a message (see {@link GGUFFormatException#quote}). */
    static String quote(String text) {
        return GGUFFormatException.quote(text);
    }
}
