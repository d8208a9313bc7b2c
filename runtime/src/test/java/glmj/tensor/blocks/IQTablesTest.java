package glmj.tensor.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Properties the format tables must have, checked on the loaded resource. */
class IQTablesTest {

    @Test
    void signTablesFollowTheirRule() {
        for (int j = 0; j < 8; j++) {
            assertEquals(1 << j, IQTables.KMASK_IQ2XS[j] & 0xFF);
        }
        for (int index = 0; index < 128; index++) {
            int signs = IQTables.KSIGNS_IQ2XS[index] & 0xFF;
            assertEquals(index, signs & 127, "low 7 bits are the index");
            assertEquals(0, Integer.bitCount(signs) % 2, "the 8th bit makes the count of negatives even");
        }
    }

    @Test
    void nonLinearValues() {
        assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12}, IQTables.KVALUES_MXFP4);
        for (int i = 1; i < 16; i++) {
            assertTrue(IQTables.KVALUES_IQ4NL[i - 1] < IQTables.KVALUES_IQ4NL[i]);
        }
        assertEquals(-127, IQTables.KVALUES_IQ4NL[0]);
        assertEquals(113, IQTables.KVALUES_IQ4NL[15]);
    }

    @Test
    void gridsHoldDistinctEntriesOfTheirLevels() {
        assertGrid(IQTables.IQ2XXS_GRID, 8, 256, Set.of(8, 25, 43));
        assertGrid(IQTables.IQ2XS_GRID, 8, 512, Set.of(8, 25, 43));
        assertGrid(IQTables.IQ2S_GRID, 8, 1024, Set.of(8, 25, 43));
        assertGrid(IQTables.IQ3XXS_GRID, 4, 256, Set.of(4, 12, 20, 28, 36, 44, 52, 62));
        assertGrid(IQTables.IQ3S_GRID, 4, 512, Set.of(1, 3, 5, 7, 9, 11, 13, 15));
        assertGrid(IQTables.IQ1S_GRID, 8, 2048, Set.of(-1, 0, 1));
    }

    private static void assertGrid(byte[] grid, int width, int entries, Set<Integer> levels) {
        assertEquals(width * entries, grid.length);
        Set<String> distinct = new HashSet<>();
        StringBuilder entry = new StringBuilder();
        for (int i = 0; i < entries; i++) {
            entry.setLength(0);
            for (int j = 0; j < width; j++) {
                int value = levels.contains(-1) ? grid[width * i + j] : grid[width * i + j] & 0xFF;
                assertTrue(levels.contains(value), "entry " + i + " holds " + value);
                entry.append(value).append(',');
            }
            distinct.add(entry.toString());
        }
        assertEquals(entries, distinct.size());
    }
}
