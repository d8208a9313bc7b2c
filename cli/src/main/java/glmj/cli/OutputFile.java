package glmj.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The checks a command makes before long work whose result is written beside its output and renamed over it: a rename
 * would replace whatever has the name, a device such as /dev/null or an empty directory included.
 */
final class OutputFile {
    private OutputFile() {
    }

    /**
     * {@code file}'s directory exists and is writable, and {@code file} is absent, or a regular file which
     * {@code replace} allows to be overwritten.
     */
    static void check(Path file, boolean replace) {
        Path directory = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(directory)) {
            throw new UserInputException(directory + ": no such directory for the output");
        }
        if (!Files.isWritable(directory)) {
            throw new UserInputException(directory + ": the output's directory is not writable");
        }
        if (Files.exists(file)) {
            if (!Files.isRegularFile(file)) {
                throw new UserInputException(file + " is not a regular file: name a file to write");
            }
            if (!replace) {
                throw new UserInputException(file + " exists: choose another -o, or overwrite it with --force");
            }
        }
    }
}
