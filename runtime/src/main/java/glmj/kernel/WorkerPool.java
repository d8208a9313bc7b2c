package glmj.kernel;

import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads, sized once, that run one parallel step at a time: {@link #run} hands out the step's task
 * indices to the workers and the calling thread, and returns when all are done. Between steps the workers spin
 * briefly (a forward pass is many short steps back to back) and then park, so an idle model costs no CPU. A step
 * asks {@link #cancelWhen}'s condition before it starts and before each task, so a cancelled forward pass stops
 * within the tasks under way.
 */
final class WorkerPool implements AutoCloseable {
    /** About 50 microseconds of spinning before a worker parks. */
    private static final int SPINS = 1 << 15;

    private final Thread[] workers;
    private volatile int generation;
    private volatile boolean closed;
    private IntConsumer task;
    private int count;
    /** The step's generation in the high 32 bits, its next unclaimed index in the low: a late worker claims nothing. */
    private final AtomicLong next = new AtomicLong();
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Throwable failure;
    /** Whether a worker left the rest of the step's tasks undone because the step was cancelled. */
    private volatile boolean abandoned;
    private volatile BooleanSupplier cancelled = () -> false;

    /** A pool in which {@code threads} threads, the caller included, share each step. */
    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("glmj-worker-" + (i + 1)).start(this::workerLoop);
        }
    }

    int threads() {
        return workers.length + 1;
    }

    /** From now on each step asks {@code condition} before it starts and before each task, and stops when it says so. */
    void cancelWhen(BooleanSupplier condition) {
        cancelled = condition;
    }

    /**
     * Runs {@code task} for every index in {@code [0, count)} across the pool; returns when all are done.
     *
     * @throws CancellationException when {@link #cancelWhen}'s condition holds before the step or one of its tasks; the
     *         tasks under way then finish and the rest never start
     */
    void run(int count, IntConsumer task) {
        if (count <= 1 || workers.length == 0) {
            for (int i = 0; i < count; i++) {
                if (cancelled.getAsBoolean()) {
                    throw new CancellationException("cancelled before task " + i + " of " + count);
                }
                task.accept(i);
            }
            return;
        }
        if (cancelled.getAsBoolean()) {
            throw new CancellationException("cancelled before a step of " + count + " tasks");
        }
        int step = generation + 1;
        // first retire the last step's tickets: a late worker must not pair them with this step's task or count
        next.set((long) step << 32);
        this.task = task;
        this.count = count;
        remaining.set(count);
        failure = null;
        abandoned = false;
        generation = step;
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        work(step, task, count);
        while (remaining.get() > 0) {
            Thread.onSpinWait();
        }
        Throwable failed = failure;
        if (failed != null) {
            if (failed instanceof RuntimeException e) {
                throw e;
            }
            if (failed instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(failed);
        }
        if (abandoned) {
            throw new CancellationException("cancelled within a step of " + count + " tasks");
        }
    }

    private void work(int step, IntConsumer task, int count) {
        while (true) {
            long ticket = next.get();
            int i = (int) ticket;
            if ((int) (ticket >>> 32) != step || i >= count) {
                return;
            }
            if (cancelled.getAsBoolean()) {
                // claim every task left at once and leave them undone
                if (next.compareAndSet(ticket, ((long) step << 32) | count)) {
                    abandoned = true;
                    remaining.addAndGet(i - count);
                }
                continue;
            }
            // claim only if the ticket is still this step's: an increment would steal an index from a later step
            if (!next.compareAndSet(ticket, ticket + 1)) {
                continue;
            }
            try {
                task.accept(i);
            } catch (Throwable t) {
                failure = t;
            } finally {
                remaining.decrementAndGet();
            }
        }
    }

    private void workerLoop() {
        int seen = 0;
        while (!closed) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            // task and count were written before generation; if they are a later step's, no claim succeeds
            work(seen, task, count);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
    }
}
