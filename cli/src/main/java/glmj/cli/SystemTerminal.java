package glmj.cli;

import org.jline.terminal.spi.SystemStream;
import org.jline.terminal.spi.TerminalProvider;

/**
 * Which of the process's standard streams are a terminal (asked through JLine's FFM provider): progress is drawn only
 * on one, and a prompt is read from stdin only when that is not one. A file or a pipe is not.
 */
final class SystemTerminal {
    private static final int DEFAULT_WIDTH = 80;

    private SystemTerminal() {}

    /** Whether stdin is a terminal, where nobody pipes a prompt; false when that cannot be told. */
    static boolean isStdin() {
        try {
            return TerminalProvider.load("ffm").isSystemStream(SystemStream.Input);
        } catch (Exception | LinkageError e) {
            return false;
        }
    }

    /** stderr's width in columns when it is a terminal; 0 when it is not, or when that cannot be told. */
    static int stderrWidth() {
        try {
            TerminalProvider provider = TerminalProvider.load("ffm");
            if (!provider.isSystemStream(SystemStream.Error)) {
                return 0;
            }
            int width = provider.systemStreamWidth(SystemStream.Error);
            return width > 0 ? width : DEFAULT_WIDTH;
        } catch (Exception | LinkageError e) {
            return 0;
        }
    }
}
