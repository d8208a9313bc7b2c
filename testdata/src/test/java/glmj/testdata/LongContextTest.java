package glmj.testdata;

import glmj.engine.MachineMemory;
import glmj.engine.Models;
import glmj.gguf.GGUFFile;
import glmj.model.GlmDsaConfig;
import glmj.model.GlmDsaEngine;
import glmj.model.KvCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * GLM-5's full context, 202,752 tokens: its KV cache is, per token and each of the 78 layers, the f16 latent (512), the
 * rope key (64) and the indexer key (128; every GLM-5 indexer is full), as predicted before loading and as allocated.
 */
class LongContextTest {
    private static final int GLM_5_CONTEXT = 202_752;
    private static final long BYTES_PER_TOKEN_AND_LAYER = 2L * (512 + 64 + 128);

    @Test
    void theFullContextsCacheIsTheLatentRopeKeyAndIndexerKeyOfEveryLayer(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("glm5-metadata.gguf");
        FullWidthGlmDsa.writeMetadataOnly(file, FullWidthGlmDsa.GLM_5);
        long expected = BYTES_PER_TOKEN_AND_LAYER * 78 * GLM_5_CONTEXT;
        assertEquals(22_267_035_648L, expected); // 20.74 GiB
        try (GGUFFile glm5 = GGUFFile.open(file)) {
            assertEquals(expected, GlmDsaEngine.cacheBytes(glm5, GLM_5_CONTEXT));
            assertEquals(expected, GlmDsaEngine.cacheBytes(glm5, 0));
            assertEquals(expected, Models.memoryPlan(glm5, GLM_5_CONTEXT, new MachineMemory(256L << 30, 200L << 30)).cacheBytes());
            // what is allocated is what was predicted, at a capacity a test JVM holds
            GlmDsaConfig c = GlmDsaConfig.from(glm5.metadata(), 0);
            assertEquals(78, c.layerCount());
            assertEquals(BYTES_PER_TOKEN_AND_LAYER * 78 * 1024, new KvCache(c, 1024).byteSize());
            assertEquals(KvCache.bytes(c, 1024), new KvCache(c, 1024).byteSize());
        }
    }
}
