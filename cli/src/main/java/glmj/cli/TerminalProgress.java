package glmj.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/** Progress bars with speed and ETA on standard error, for long work, shown only on a terminal (never in piped output). */
final class TerminalProgress {
    private TerminalProgress() {
    }

    /** Whether standard error is a terminal a bar may be drawn on. */
    static boolean shown() {
        return System.console() != null && System.console().isTerminal();
    }

    /** A bar named {@code task} counting {@code unit}s of {@code unitSize} up to {@code max} (0: the work tells it later). */
    static ProgressBar bar(String task, String unit, long unitSize, long max) {
        return new ProgressBarBuilder()
                .setTaskName(task)
                .setUnit(" " + unit, unitSize)
                .setInitialMax(max)
                .showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .build();
    }
}
