package glmj.cli;

import glmj.generate.Generator;
import java.io.PrintWriter;
import java.text.DecimalFormat;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;

/**
 * A prompt's progress drawn on a terminal while the model reads it: tokens done of all, elapsed and left, tokens per
 * second. It shows from a second into the prompt (a short prompt draws nothing) and is erased when the prompt is done
 * or stopped, before the answer or anything else is printed. On {@link #NONE} (not a terminal) nothing is drawn.
 */
final class PromptProgressBar implements Generator.PromptProgress, AutoCloseable {
    /** How long a prompt runs before its progress shows. */
    private static final long DELAY_NANOS = 1_000_000_000L;
    private static final int REFRESH_MILLIS = 250;

    /** Draws nothing. */
    static final PromptProgressBar NONE = new PromptProgressBar(null, 0);

    private final PrintWriter terminal;
    private final int width;
    private ProgressBar bar;

    private PromptProgressBar(PrintWriter terminal, int width) {
        this.terminal = terminal;
        this.width = width;
    }

    /** Progress drawn on {@code terminal}, a terminal {@code columns} wide; none when {@code columns} is 0. */
    static PromptProgressBar on(PrintWriter terminal, int columns) {
        return columns > 0 ? new PromptProgressBar(terminal, columns - 1) : NONE;
    }

    @Override
    public void processed(int done, int total) {
        if (terminal == null) {
            return;
        }
        if (done == 0) {
            close();
            bar = new ProgressBarBuilder()
                    .setTaskName("prompt")
                    .setInitialMax(total)
                    .setUnit(" tokens", 1)
                    .showSpeed(new DecimalFormat("0.0"))
                    .setUpdateIntervalMillis(REFRESH_MILLIS)
                    .continuousUpdate()
                    .setConsumer(new Screen(System.nanoTime() + DELAY_NANOS))
                    .clearDisplayOnFinish()
                    .build();
        } else if (done >= total) {
            close();
        } else if (bar != null) {
            bar.stepTo(done);
        }
    }

    /** Erases the progress, if it showed; the next prompt starts a new one. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    /** The line the bar is drawn on: left alone until {@code showFrom}, and blanked when the bar finishes. */
    private final class Screen implements ProgressBarConsumer {
        private final long showFrom;
        private boolean drawn;

        Screen(long showFrom) {
            this.showFrom = showFrom;
        }

        @Override
        public int getMaxRenderedLength() {
            return width;
        }

        @Override
        public void accept(String rendered) {
            if (System.nanoTime() - showFrom >= 0) {
                terminal.print('\r' + rendered);
                terminal.flush();
                drawn = true;
            }
        }

        @Override
        public void clear() {
            if (drawn) {
                terminal.print('\r' + " ".repeat(width) + '\r');
                terminal.flush();
            }
        }

        @Override
        public void close() {
        }
    }
}
