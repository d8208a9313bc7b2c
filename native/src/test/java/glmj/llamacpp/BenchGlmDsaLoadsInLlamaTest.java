package glmj.llamacpp;

import glmj.generate.Session;
import glmj.model.GlmDsaEngine;
import glmj.testdata.BenchGlmDsa;
import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * llama.cpp v0.5.0 loads and runs the bench model, made at its small scale by the code that makes the full one (which
 * is too big for a test): every tensor it asks for is there, and a prompt decodes to finite, varied logits. glmj's
 * engine runs it too.
 */
class BenchGlmDsaLoadsInLlamaTest {
    private static final String PROMPT = "[gMASK]<sop><|user|>Count the letters of this sentence, then say which is the most frequent."
            + "<|assistant|><think>";
    private static final int CONTEXT_SIZE = 256;
    private static final int THREADS = 2;

    @Test
    void llamaLoadsAndDecodes() {
        Path file = TestModels.benchModel(BenchGlmDsa.Scale.SMALL);
        try (LlamaModel model = LlamaModel.load(file)) {
            assertEquals(TinyGlmDsa.ARCHITECTURE, model.metadata("general.architecture"));
            assertEquals(3, model.layerCount());
            assertEquals(256, model.embeddingLength());
            assertEquals(TinyGlmDsa.vocabularySize(), model.vocabularySize());
            assertEquals(String.valueOf(BenchGlmDsa.EXPERT_COUNT), model.metadata("glm-dsa.expert_count"));

            int[] tokens = model.tokenize(PROMPT, true, true);
            try (LlamaModel.Context context = model.context(CONTEXT_SIZE, CONTEXT_SIZE, THREADS)) {
                context.decode(tokens, false);
                LogitRange.of(context.logits(-1));
            }
            assertFalse(LlamaModel.log().contains("missing tensor"), LlamaModel::log);
        }
    }

    @Test
    void glmjEngineDecodes() throws IOException {
        int[] tokens;
        try (LlamaModel model = LlamaModel.loadVocabOnly(TestModels.benchModel(BenchGlmDsa.Scale.SMALL))) {
            tokens = model.tokenize(PROMPT, true, true);
        }
        try (GlmDsaEngine model = GlmDsaEngine.open(TestModels.benchModel(BenchGlmDsa.Scale.SMALL), CONTEXT_SIZE, CONTEXT_SIZE, THREADS); Session engine = model.newSession()) {
            LogitRange.of(engine.forward(tokens, 0, tokens.length));
        }
    }
}
