package glmj.cli;

import glmj.quality.Progress;
import java.time.Duration;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * A progress bar over a quality run's chunks, counted in tokens, with speed and ETA, on standard error; only on a
 * terminal (piped output gets none).
 */
final class ChunkProgressBar implements AutoCloseable {
    private final ProgressBar bar;
    private final int chunkLength;

    private ChunkProgressBar(ProgressBar bar, int chunkLength) {
        this.bar = bar;
        this.chunkLength = chunkLength;
    }

    /** A bar for {@code chunks} chunks of {@code chunkLength} tokens, {@code done} of them done before this run. */
    static ChunkProgressBar open(String task, int chunks, int chunkLength, int done) {
        if (System.console() == null || !System.console().isTerminal()) {
            return new ChunkProgressBar(null, chunkLength);
        }
        return new ChunkProgressBar(new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax((long) chunks * chunkLength)
                .startsFrom((long) done * chunkLength, Duration.ZERO)
                .setUnit(" tok", 1)
                .showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .build(), chunkLength);
    }

    Progress listener() {
        return bar == null ? Progress.NONE : (done, total) -> bar.stepTo((long) done * chunkLength);
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
