package glmj.convert;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** A fixed number of threads that run lists of tasks, for the work on whole models that keeps every core busy. */
public final class WorkerThreads implements AutoCloseable {
    private final ExecutorService pool;
    private final int count;

    public WorkerThreads(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + count);
        }
        this.count = count;
        this.pool = Executors.newFixedThreadPool(count);
    }

    public int count() {
        return count;
    }

    /** Runs every task, in order as threads come free, and returns when all are done; a task's exception is rethrown. */
    public void runAll(List<? extends Runnable> tasks) {
        List<Future<?>> pending = new ArrayList<>(tasks.size());
        tasks.forEach(task -> pending.add(pool.submit(task)));
        try {
            for (Future<?> task : pending) {
                task.get();
            }
        } catch (ExecutionException e) {
            pending.forEach(task -> task.cancel(true));
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            pending.forEach(task -> task.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
