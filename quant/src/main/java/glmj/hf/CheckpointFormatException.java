package glmj.hf;

import java.nio.file.Path;

/**
 * A Hugging Face checkpoint is malformed, or lacks or holds something glmj cannot use. The message is one line:
 * {@code FILE: what}, naming the tensor where there is one.
 */
public class CheckpointFormatException extends RuntimeException {
    private final transient Path file;

    public CheckpointFormatException(Path file, String what) {
        super(file + ": " + oneLine(what));
        this.file = file;
    }

    /** The file (or directory) the problem is in. */
    public Path file() {
        return file;
    }

    /** A name taken from a file, quoted for a message: control characters escaped and very long names cut. */
    static String quote(String text) {
        String cut = text.length() > 120 ? text.substring(0, 120) + "..." : text;
        return "'" + oneLine(cut) + "'";
    }

    private static String oneLine(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
