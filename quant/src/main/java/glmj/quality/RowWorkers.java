package glmj.quality;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/** The threads a quality run scores logits rows on, while the engine's own threads wait for the next batch. */
final class RowWorkers implements AutoCloseable {
    private final ForkJoinPool pool;

    RowWorkers(int threads) {
        pool = new ForkJoinPool(Math.max(1, threads));
    }

    /** Runs {@code task} for each row in {@code [0, rows)} in parallel; returns when all are done. */
    void forEach(int rows, IntConsumer task) {
        pool.submit(() -> IntStream.range(0, rows).parallel().forEach(task)).join();
    }

    @Override
    public void close() {
        pool.close();
    }
}
