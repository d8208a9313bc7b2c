package glmj.testdata;

import glmj.gguf.ActiveWeights;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFWriter;
import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;
import glmj.testdata.GlmDsaGenerator.TensorSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link ActiveWeights} against counts made from what the generator knows it wrote, not from the file. */
class ActiveWeightsTest {

    @Test
    void tinyModelReadsOneEmbeddingRowAndTwoOfEightExperts() throws IOException {
        long expected = 0, experts = 0, everyToken = 0;
        for (TensorSpec spec : GlmDsaGenerator.tensors(TinyGlmDsa.SHAPE, TinyGlmDsa.vocabularySize())) {
            GGMLType type = TinyGlmDsa.Variant.UD_Q2_K_XL.typeOf(spec.role(), spec.block());
            long elements = spec.elementCount();
            long read = switch (spec.role()) {
                case TOKEN_EMBD -> type.byteSize(TinyGlmDsa.EMBEDDING_LENGTH);
                case EXPERT_GATE_UP, EXPERT_DOWN ->
                        type.byteSize(elements / TinyGlmDsa.EXPERT_COUNT) * TinyGlmDsa.EXPERT_USED_COUNT;
                default -> type.byteSize(elements);
            };
            expected += read;
            switch (spec.role()) {
                case EXPERT_GATE_UP, EXPERT_DOWN -> experts += type.byteSize(elements);
                default -> everyToken += read;
            }
        }
        try (GGUFFile tiny = GGUFFile.open(TestModels.tinyQuantMix())) {
            ActiveWeights active = ActiveWeights.of(tiny);
            assertEquals(expected, active.perToken());
            assertEquals(everyToken, active.everyToken());
            assertEquals(experts, active.routedExperts());
            assertEquals(everyToken + experts, active.workingSet());
        }
    }

    @Test
    void mtpBlocksAreNotRead(@TempDir Path dir) throws IOException {
        Path withMtp = dir.resolve("mtp.gguf");
        long whole;
        long lastBlock = 0;
        try (GGUFFile tiny = GGUFFile.open(TestModels.tinyQuantMix())) {
            whole = ActiveWeights.of(tiny).perToken();
            for (TensorInfo t : tiny.tensors()) {
                if (t.name().startsWith("blk." + (TinyGlmDsa.BLOCK_COUNT - 1) + ".")) {
                    lastBlock += t.name().contains("_exps.")
                            ? t.byteSize() / TinyGlmDsa.EXPERT_COUNT * TinyGlmDsa.EXPERT_USED_COUNT
                            : t.byteSize();
                }
            }
            GGUFWriter.copyOf(tiny).putUInt32("glm-dsa.nextn_predict_layers", 1).write(withMtp);
        }
        try (GGUFFile mtp = GGUFFile.open(withMtp)) {
            assertEquals(whole - lastBlock, ActiveWeights.of(mtp).perToken());
        }
    }
}
