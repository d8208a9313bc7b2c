package glmj.tensor.quantize;

import glmj.tensor.GGMLType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Once compiled, quantizing allocates nothing on the heap, with or without importance: each thread reuses its
 * scratch. Until C2 has compiled the row functions the interpreter may allocate, so windows of calls repeat until one
 * allocates nothing, for at most a minute.
 */
class QuantizerAllocatesNothingTest {

    private static final int COLUMNS = 512;
    private static final int ROWS = 2;
    private static final long PATIENCE_NANOS = 60_000_000_000L;

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "Q8_K", "IQ4_NL", "IQ4_XS", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S"})
    void quantizingAllocatesNothingOnceCompiled(GGMLType type) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().threadId();
        Random random = new Random(type.id);
        float[] weights = new float[ROWS * COLUMNS];
        float[] importance = new float[COLUMNS];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < COLUMNS; i++) {
            importance[i] = (float) Math.exp(random.nextGaussian());
        }
        boolean withoutImportance = !Quantizer.requiresImportance(type);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(type.byteSize(weights.length));
            long allocated = -1;
            int windows = 0;
            for (long start = System.nanoTime(); allocated != 0 && System.nanoTime() - start < PATIENCE_NANOS; windows++) {
                long before = threads.getThreadAllocatedBytes(thread);
                for (int call = 0; call < 16; call++) {
                    Quantizer.quantize(type, weights, 0, ROWS, COLUMNS, importance, dst, 0);
                    if (withoutImportance) {
                        Quantizer.quantize(type, weights, 0, ROWS, COLUMNS, null, dst, 0);
                    }
                }
                allocated = threads.getThreadAllocatedBytes(thread) - before;
            }
            assertEquals(0, allocated, type.ggmlName + " after " + windows + " windows of 16 calls");
        }
    }
}
