package glmj.cli;

import java.io.FilterWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.Charset;

/**
 * Standard output that cannot be lost silently. A {@link PrintWriter} swallows write errors; this one keeps the
 * first, so that output which could not be written (a full disk, a closed pipe) ends the command with one line naming
 * the reason, instead of passing for success. Commands that stream call {@link #check} as they go, to stop early.
 */
final class CheckedOutput extends PrintWriter {
    private final FailureKeeper keeper;

    CheckedOutput(OutputStream stream, Charset charset) {
        this(new FailureKeeper(new OutputStreamWriter(stream, charset)));
    }

    private CheckedOutput(FailureKeeper keeper) {
        super(keeper, true);
        this.keeper = keeper;
    }

    /**
     * Flushes {@code out} and throws an {@link UncheckedIOException} ("could not write to stdout: No space left on
     * device") when anything written to it so far was lost.
     */
    static void check(PrintWriter out) {
        if (out.checkError()) {
            IOException cause = out instanceof CheckedOutput checked ? checked.keeper.failure : null;
            String reason = cause != null && cause.getMessage() != null ? ": " + cause.getMessage() : "";
            throw new UncheckedIOException(new IOException("could not write to stdout" + reason, cause));
        }
    }

    /** Passes everything on, remembering the first write that failed. */
    private static final class FailureKeeper extends FilterWriter {
        private IOException failure;

        FailureKeeper(Writer out) {
            super(out);
        }

        private IOException kept(IOException e) {
            if (failure == null) {
                failure = e;
            }
            return e;
        }

        @Override
        public void write(int c) throws IOException {
            try {
                super.write(c);
            } catch (IOException e) {
                throw kept(e);
            }
        }

        @Override
        public void write(char[] chars, int offset, int length) throws IOException {
            try {
                super.write(chars, offset, length);
            } catch (IOException e) {
                throw kept(e);
            }
        }

        @Override
        public void write(String text, int offset, int length) throws IOException {
            try {
                super.write(text, offset, length);
            } catch (IOException e) {
                throw kept(e);
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                super.flush();
            } catch (IOException e) {
                throw kept(e);
            }
        }
    }
}
