package glmj.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerPoolTest {

    /** Many short steps back to back, as a forward pass runs them: every index of every step runs exactly once. */
    @Test
    @Timeout(60)
    void everyIndexOfEveryStepRunsOnce() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int step = 0; step < 20_000; step++) {
                int count = 1 + step % 7;
                AtomicIntegerArray runs = new AtomicIntegerArray(count);
                int spin = step % 5;
                pool.run(count, i -> {
                    for (int s = 0; s < spin * 50; s++) {
                        Thread.onSpinWait();
                    }
                    runs.incrementAndGet(i);
                });
                for (int i = 0; i < count; i++) {
                    assertEquals(1, runs.get(i), "step " + step + " index " + i);
                }
            }
        }
    }

    /** A key pressed within a step: the tasks under way finish, none starts after, and the pool goes on. */
    @Test
    @Timeout(60)
    void aCancelledStepStartsNoTaskAfterTheKey() {
        for (int threads : new int[] {1, 2, 3}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                for (int press = 0; press < 50; press++) {
                    AtomicBoolean key = new AtomicBoolean();
                    pool.cancelWhen(key::get);
                    AtomicInteger started = new AtomicInteger();
                    AtomicInteger afterKey = new AtomicInteger();
                    int pressAt = press;
                    assertThrows(CancellationException.class, () -> pool.run(200, i -> {
                        if (key.get()) {
                            afterKey.incrementAndGet();
                        }
                        if (started.getAndIncrement() == pressAt) {
                            key.set(true);
                        }
                        for (int s = 0; s < 2000; s++) {
                            Thread.onSpinWait();
                        }
                    }));
                    // another thread may have claimed its task just before the key and start it just after
                    assertTrue(afterKey.get() <= threads - 1, threads + " threads: " + afterKey.get() + " tasks started after the key");
                    assertTrue(started.get() <= pressAt + threads, started + " tasks started, the key at " + pressAt);
                    assertThrows(CancellationException.class, () -> pool.run(4, i -> started.incrementAndGet()), "a step after the key");
                    key.set(false);
                    AtomicIntegerArray runs = new AtomicIntegerArray(8);
                    pool.run(8, runs::incrementAndGet);
                    for (int i = 0; i < 8; i++) {
                        assertEquals(1, runs.get(i));
                    }
                }
            }
        }
    }

    @Test
    @Timeout(10)
    void aFailingTaskFailsTheStepAndThePoolGoesOn() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException failure = new IllegalStateException("boom");
            assertSame(failure, assertThrows(IllegalStateException.class, () -> pool.run(8, i -> {
                if (i == 5) {
                    throw failure;
                }
            })));
            AtomicIntegerArray runs = new AtomicIntegerArray(4);
            pool.run(4, runs::incrementAndGet);
            for (int i = 0; i < 4; i++) {
                assertEquals(1, runs.get(i));
            }
        }
    }
}
