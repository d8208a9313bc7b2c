package glmj.testdata;

import glmj.gguf.GGUFFile;
import glmj.model.GlmDsaConfig;
import glmj.model.KvCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full-width model's cache twin ({@link FullWidthGlmDsa#writeCacheTwin}) caches per token what the full-width model
 * caches, through one head, so its caches move into the full-width model's ({@link KvCache#copyFrom}); caches of
 * other layouts do not.
 */
class CacheTwinTest {
    private static final FullWidthGlmDsa.Layers LAYERS = new FullWidthGlmDsa.Layers(4, 2, 1);

    @Test
    void theTwinHasTheFullWidthModelsCacheAndOneHead(@TempDir Path dir) throws IOException {
        Path full = dir.resolve("full.gguf");
        Path twin = dir.resolve("twin.gguf");
        FullWidthGlmDsa.writeMetadataOnly(full, LAYERS);
        FullWidthGlmDsa.writeCacheTwin(twin, LAYERS, GlmDsaGenerator.Progress.NONE);
        GlmDsaConfig wide = config(full);
        GlmDsaConfig narrow = config(twin);
        assertEquals(FullWidthGlmDsa.HEAD_COUNT, wide.headCount());
        assertEquals(FullWidthGlmDsa.INDEXER_HEAD_COUNT, wide.indexerHeadCount());
        assertEquals(1, narrow.headCount());
        assertEquals(1, narrow.indexerHeadCount());
        assertEquals(wide.layerCount(), narrow.layerCount());
        assertEquals(KvCache.bytes(wide, 1000), KvCache.bytes(narrow, 1000));
        assertTrue(Files.size(twin) < 200_000_000, Files.size(twin) + " bytes");

        KvCache filled = new KvCache(narrow, 16);
        filled.advance(10);
        KvCache measured = new KvCache(wide, 16);
        measured.copyFrom(filled);
        assertEquals(10, measured.position());
    }

    @Test
    void aCopyHoldsTheSourcesTokensByteForByte() throws IOException {
        GlmDsaConfig c = config(TestModels.fullWidthMiniature());
        KvCache source = new KvCache(c, 32);
        for (int il = 0; il < c.layerCount(); il++) {
            fill(source.latents(il), il);
            if (source.indexerKeys(il) != null) {
                fill(source.indexerKeys(il), 100 + il);
            }
        }
        source.advance(20);
        KvCache copy = new KvCache(c, 64);
        copy.copyFrom(source);
        assertEquals(20, copy.position());
        for (int il = 0; il < c.layerCount(); il++) {
            assertHoldsTwentyTokens(source.latents(il), copy.latents(il), il + ": latents");
            if (source.indexerKeys(il) != null) {
                assertHoldsTwentyTokens(source.indexerKeys(il), copy.indexerKeys(il), il + ": indexer keys");
            }
        }
    }

    @Test
    void cachesOfOtherLayoutsOrMoreTokensDoNotMove() throws IOException {
        GlmDsaConfig wide = config(TestModels.fullWidthMiniature());
        KvCache tiny = new KvCache(config(TestModels.tinyF32()), 16);
        IllegalArgumentException otherLayout = assertThrows(IllegalArgumentException.class, () -> new KvCache(wide, 16).copyFrom(tiny));
        assertTrue(otherLayout.getMessage().contains("1152-byte latents"), otherLayout.getMessage());
        KvCache full = new KvCache(wide, 16);
        full.advance(12);
        assertThrows(IllegalArgumentException.class, () -> new KvCache(wide, 8).copyFrom(full));
    }

    private static GlmDsaConfig config(Path file) throws IOException {
        try (GGUFFile gguf = GGUFFile.open(file)) {
            return GlmDsaConfig.from(gguf.metadata(), 0);
        }
    }

    private static void fill(MemorySegment segment, int seed) {
        for (long i = 0; i < segment.byteSize(); i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
    }

    /** The first twenty tokens' bytes equal, the rest of the copy untouched (zero). */
    private static void assertHoldsTwentyTokens(MemorySegment source, MemorySegment copy, String what) {
        long perToken = source.byteSize() / 32;
        assertEquals(-1, source.asSlice(0, 20 * perToken).mismatch(copy.asSlice(0, 20 * perToken)), what);
        MemorySegment rest = copy.asSlice(20 * perToken);
        for (long i = 0; i < rest.byteSize(); i++) {
            assertEquals(0, rest.get(ValueLayout.JAVA_BYTE, i), what + ": byte " + i + " after the tokens");
        }
    }
}
