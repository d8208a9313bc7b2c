package glmj.gguf;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which Linux releases read huge pages of a mapped file ahead by themselves: 5.18 and later. */
class PagingTest {

    @ParameterizedTest
    @CsvSource({
            "5.18.0, true", "5.19.17-generic, true", "6.1.0-13-amd64, true", "6.18.44-fc-v1300, true", "10.0, true",
            "5.17.15, false", "5.4.0-150-generic, false", "4.19.0, false", "5, false", "'', false", "unknown, false"})
    void releasesFrom5Point18OnReadHugePagesAhead(String release, boolean readsAhead) {
        assertEquals(readsAhead, Paging.atLeast(release, 5, 18), release);
    }
}
