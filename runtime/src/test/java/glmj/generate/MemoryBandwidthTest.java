package glmj.generate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryBandwidthTest {

    @Test
    void everyPassReadsTheWholeRegionAtAPlausibleSpeed() {
        MemoryBandwidth.Result result = MemoryBandwidth.measure(64L << 20, 2, 3);
        assertEquals(64L << 20, result.bytes());
        assertEquals(3, result.bytesPerSecond().length);
        for (double speed : result.bytesPerSecond()) {
            assertTrue(speed > 1e8 && speed < 1e13, speed + " bytes/s");
        }
        assertEquals(java.util.Arrays.stream(result.bytesPerSecond()).max().orElseThrow(), result.best());
    }

    @Test
    void tooSmallARegionIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.measure(16, 2, 1));
    }
}
