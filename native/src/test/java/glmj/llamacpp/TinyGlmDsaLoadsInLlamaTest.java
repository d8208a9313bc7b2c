package glmj.llamacpp;

import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * llama.cpp v0.5.0 loads and runs the tiny GLM-5 models: as glm-dsa with our layer count and width, with every tensor
 * it asks for (a missing or surplus tensor fails the load, and its log is the failure message), and a prompt longer
 * than the indexer's top-k decodes to finite, varied logits over the whole vocabulary. The split set loads too,
 * found from its first shard's name and given as a list.
 */
class TinyGlmDsaLoadsInLlamaTest {
    /** Long enough that the DSA indexer must choose {@link TinyGlmDsa#INDEXER_TOP_K} keys out of many. */
    private static final String PROMPT = "[gMASK]<sop><|system|>You are a careful assistant who answers briefly."
            + "<|user|>The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly. "
            + "Pack my box with five dozen liquor jugs, then explain which of these sentences are pangrams and why. "
            + "Answer in two short paragraphs and count the letters of each sentence."
            + "<|assistant|><think>";
    private static final int CONTEXT_SIZE = 512;
    private static final int THREADS = 2;

    @Test
    void quantizedMixLoadsAndDecodes() {
        checkModel(List.of(TestModels.tinyQuantMix()));
    }

    @Test
    void f32LoadsAndDecodes() {
        checkModel(List.of(TestModels.tinyF32()));
    }

    @Test
    void builtInModelLoadsAndDecodes() {
        checkModel(List.of(TestModels.tinyQuantMix())); // the bytes glmj's jar ships (BuiltInModelTest)
    }

    @Test
    void splitSetLoadsAndDecodes(@TempDir Path dir) throws IOException {
        int perShard = (TinyGlmDsa.tensorCount() + 1) / 2;
        List<Path> shards = TinyGlmDsa.writeSplit(dir, "tiny-glm-dsa", TinyGlmDsa.Variant.UD_Q2_K_XL, perShard);
        assertEquals(2, shards.size());
        assertEquals("tiny-glm-dsa-00001-of-00002.gguf", shards.getFirst().getFileName().toString());
        checkModel(List.of(shards.getFirst()));
        checkModel(shards);
    }

    /** Loads {@code files} (one file, or the shards of a split set in order) and decodes the prompt. */
    private static void checkModel(List<Path> files) {
        try (LlamaModel model = LlamaModel.load(files, false)) {
            assertEquals(TinyGlmDsa.ARCHITECTURE, model.metadata("general.architecture"));
            assertEquals(TinyGlmDsa.BLOCK_COUNT, model.layerCount());
            assertEquals(TinyGlmDsa.EMBEDDING_LENGTH, model.embeddingLength());
            assertEquals(TinyGlmDsa.vocabularySize(), model.vocabularySize());

            int[] tokens = model.tokenize(PROMPT, true, true);
            assertTrue(tokens.length >= 60, "prompt of " + tokens.length + " tokens");
            assertTrue(tokens.length > 3 * TinyGlmDsa.INDEXER_TOP_K);
            assertEquals("[gMASK]", model.tokenText(tokens[0]), "the prompt starts with one special token");

            try (LlamaModel.Context context = model.context(CONTEXT_SIZE, CONTEXT_SIZE, THREADS)) {
                context.decode(tokens, false);
                float[] logits = context.logits(-1);
                LogitRange range = LogitRange.of(logits);
                System.out.printf("%s: %d tokens, logits in [%.3f, %.3f]%n", files.getFirst().getFileName(), tokens.length,
                        range.min(), range.max());
            }
            assertFalse(LlamaModel.log().contains("missing tensor"), LlamaModel::log);
        }
    }
}
