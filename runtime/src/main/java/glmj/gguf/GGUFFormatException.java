package glmj.gguf;

import java.nio.file.Path;

/**
 * A GGUF file (or a set of split files) is malformed, or lacks a key or tensor the caller needs. The message is one
 * line: {@code FILE: what (at byte N)}, the byte part only when a position in the file is meaningful.
 */
public class GGUFFormatException extends RuntimeException {
    private final transient Path file;
    private final long offset;

    public GGUFFormatException(Path file, String what, long offset) {
        super(file + ": " + oneLine(what) + " (at byte " + offset + ")");
        this.file = file;
        this.offset = offset;
    }

    public GGUFFormatException(Path file, String what) {
        super(file + ": " + oneLine(what));
        this.file = file;
        this.offset = -1;
    }

    /** The file the problem is in. */
    public Path file() {
        return file;
    }

    /** The byte position of the problem in {@link #file()}, or -1 when it is not about one position. */
    public long offset() {
        return offset;
    }

    /**
     * Quotes a key or tensor name taken from a file for a message: control characters escaped (so the message stays
     * on one line) and very long names cut. For the messages of other file formats' readers too.
     */
    public static String quote(String text) {
        String cut = text.length() > 120 ? text.substring(0, 120) + "..." : text;
        return "'" + oneLine(cut) + "'";
    }

    /** {@code text} with its control characters escaped, so that a message stays on one line. */
    public static String oneLine(String text) {
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
