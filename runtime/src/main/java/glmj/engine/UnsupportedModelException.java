package glmj.engine;

import java.nio.file.Path;

/** A model glmj does not run: another architecture, or options it cannot meet. The message is one line naming the file. */
public final class UnsupportedModelException extends RuntimeException {
    public UnsupportedModelException(Path file, String what) {
        super(file + ": " + what);
    }
}
