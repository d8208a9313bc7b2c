package glmj.llamacpp;

import glmj.testdata.FullWidthGlmDsa;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The full-width models' design at test size ({@link FullWidthGlmDsa#writeMiniature}: random blocks in GLM-5's
 * UD-Q2_K_XL mix, the MTP block, the vocabulary padded to 154,880, no indexer.types key) loads in llama.cpp with every
 * tensor it asks for, and glmj matches it layer by layer, as {@link GlmDsaMatchesLlamaTest} compares the tiny models.
 * {@link FullSizeMatchesLlamaTest} runs the same comparisons at GLM-5's real widths (opt-in: gigabytes).
 */
class FullWidthDesignMatchesLlamaTest extends QuantizedLayerByLayerTests {
    @BeforeAll
    static void loadLibrary() {
        Oracle.library();
    }

    @Test
    void llamaLoadsEveryTensorOfTheTrunkAndTheMtpBlock() {
        try (LlamaModel model = LlamaModel.load(TestModels.fullWidthMiniature())) {
            assertEquals(3, model.layerCount(), "the trunk: llama.cpp counts the MTP block apart");
            assertEquals(FullWidthGlmDsa.VOCABULARY_SIZE, model.vocabularySize());
            assertFalse(LlamaModel.log().contains("missing tensor"), LlamaModel::log);
        }
    }

    @Override
    LayerByLayer.Run run() throws IOException {
        return LayerByLayer.Run.of(TestModels.fullWidthMiniature(), 128, 64, 8, FullWidthGlmDsa.VOCABULARY_SIZE, 42);
    }
}
