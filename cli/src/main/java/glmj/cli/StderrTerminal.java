package glmj.cli;

import org.jline.terminal.spi.SystemStream;
import org.jline.terminal.spi.TerminalProvider;

/** Whether stderr is a terminal, where progress may be drawn, and how wide: a file or a pipe gets none of it. */
final class StderrTerminal {
    private static final int DEFAULT_WIDTH = 80;

    private StderrTerminal() {}

    /** stderr's width in columns when it is a terminal; 0 when it is not, or when that cannot be told. */
    static int width() {
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
