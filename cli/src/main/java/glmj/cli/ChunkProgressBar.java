package glmj.cli;

import glmj.generate.LayerByLayer;
import glmj.quality.Progress;
import java.time.Duration;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * A progress bar over a quality run, counted in tokens, with speed and ETA, on standard error; only on a terminal
 * (piped output gets none). Chunk after chunk it counts the chunks' tokens; layer by layer, every chunk's tokens once
 * per layer and once for the output, naming the layer. A resumed run's bar starts where the run was.
 */
final class ChunkProgressBar implements AutoCloseable {
    private final String task;
    private final int chunkLength;
    private final boolean terminal = System.console() != null && System.console().isTerminal();
    private ProgressBar bar;

    private ChunkProgressBar(String task, int chunkLength) {
        this.task = task;
        this.chunkLength = chunkLength;
    }

    /** A bar for a run over chunks of {@code chunkLength} tokens. */
    static ChunkProgressBar open(String task, int chunkLength) {
        return new ChunkProgressBar(task, chunkLength);
    }

    /** The listener of a run chunk after chunk. */
    Progress chunks() {
        return (done, total) -> show((long) done * chunkLength, (long) total * chunkLength, null);
    }

    /** The listener of a run layer by layer. */
    LayerByLayer.Progress layers() {
        return (stage, stages, chunk, chunks) -> show(((long) stage * chunks + chunk) * chunkLength,
                (long) stages * chunks * chunkLength, stage < stages - 1 ? "layer " + (stage + 1) + "/" + (stages - 1) : "output");
    }

    private synchronized void show(long done, long max, String message) {
        if (!terminal) {
            return;
        }
        if (bar == null) {
            bar = new ProgressBarBuilder()
                    .setTaskName(task)
                    .setInitialMax(max)
                    .startsFrom(done, Duration.ZERO)
                    .setUnit(" tok", 1)
                    .showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(System.err))
                    .build();
        }
        bar.maxHint(max);
        bar.stepTo(done);
        if (message != null) {
            bar.setExtraMessage(message);
        }
    }

    @Override
    public synchronized void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
