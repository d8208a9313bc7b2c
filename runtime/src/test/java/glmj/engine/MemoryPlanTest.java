package glmj.engine;

import glmj.generate.CacheTooLargeException;
import glmj.gguf.ActiveWeights;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a run needs against what the machine has: a GLM-5-like file on a large machine and on machines too small for it. */
class MemoryPlanTest {
    private static final long GB = 1L << 30;
    /** 10 GiB read every step, 100 GiB of routed experts of which a step reads 3 GiB. */
    private static final ActiveWeights WEIGHTS = new ActiveWeights(10 * GB, 100 * GB, 3 * GB);

    private static MemoryPlan plan(long cacheBytes, long available) {
        return new MemoryPlan(Path.of("/models/glm5.gguf"), 111 * GB, WEIGHTS, 202_752, cacheBytes,
                new MachineMemory(256 * GB, available));
    }

    @Test
    void aMachineLargeEnoughKeepsTheWeightsAndSaysNothingMore() {
        MemoryPlan plan = plan(5 * GB, 200 * GB);
        assertTrue(plan.weightsStayResident());
        assertNull(plan.residencyWarning());
        assertEquals(0, plan.diskBytesPerToken());
        plan.checkCache();
        String statement = plan.statement();
        assertFalse(statement.contains("\n"));
        assertTrue(statement.startsWith("glm5.gguf: 111.00 GiB file, 13.00 GiB of weights read per token (110.00 GiB in all),"
                + " a KV cache of 5.00 GiB for 202,752 tokens; the machine has 256.00 GiB of memory, 200.00 GiB available"), statement);
    }

    @Test
    void aSmallerMachineHearsHowMuchDecodingReadsFromDiskAndGoesOn() {
        // 64 GiB available: 5 for the cache, 10 for what every step reads, 49 of the 100 GiB of experts
        MemoryPlan plan = plan(5 * GB, 64 * GB);
        assertFalse(plan.weightsStayResident());
        assertEquals(0.49, plan.residentExpertShare(), 1e-12);
        assertEquals(Math.round(3 * GB * 0.51), plan.diskBytesPerToken());
        String warning = plan.residencyWarning();
        assertFalse(warning.contains("\n"));
        assertTrue(warning.contains("about 49% of the routed experts stay in memory"), warning);
        assertTrue(warning.contains(String.format(java.util.Locale.ROOT, "%.2f tokens/s per GB/s", 1e9 / Math.round(3 * GB * 0.51))), warning);
        plan.checkCache();
    }

    @Test
    void whenEvenWhatEveryStepReadsDoesNotFitItReadsThatFromDiskToo() {
        MemoryPlan plan = plan(5 * GB, 8 * GB);
        assertEquals(0, plan.residentExpertShare());
        assertEquals(7 * GB + 3 * GB, plan.diskBytesPerToken());
    }

    @Test
    void aCacheLargerThanTheMemoryAvailableIsAOneLineError() {
        CacheTooLargeException e = assertThrows(CacheTooLargeException.class, () -> plan(70 * GB, 64 * GB).checkCache());
        assertEquals("the KV cache of a 202,752-token context needs 70.00 GiB, more than the 64.00 GiB of memory available"
                + " (256.00 GiB in all): lower the context size with -c", e.getMessage());
    }

    @Test
    void theMemoryAvailableIsLinuxsMemAvailable() {
        List<String> meminfo = List.of("MemTotal:       24572436 kB", "MemFree:          812345 kB", "MemAvailable:   10485760 kB");
        assertEquals(10L << 30, MachineMemory.memAvailable(meminfo, -1));
        assertEquals(-1, MachineMemory.memAvailable(List.of("MemTotal: 1 kB"), -1));
        MachineMemory now = MachineMemory.now();
        assertTrue(now.total() > 0 && now.available() > 0 && now.available() <= now.total(), now.toString());
    }
}
