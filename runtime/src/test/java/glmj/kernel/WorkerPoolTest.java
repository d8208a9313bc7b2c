package glmj.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
