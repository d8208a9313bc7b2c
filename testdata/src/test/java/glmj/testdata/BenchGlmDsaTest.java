package glmj.testdata;

import glmj.gguf.GGUFFile;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;
import glmj.testdata.GlmDsaGenerator.Role;
import glmj.testdata.GlmDsaGenerator.TensorSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bench model, generated at its small scale (the full one takes minutes) through the code the full one uses; the
 * full scale's sizes are checked from its tensor list without generating it.
 */
class BenchGlmDsaTest {
    private static final BenchGlmDsa.UnslothQ2KXl MIX = new BenchGlmDsa.UnslothQ2KXl();

    @Test
    void everyRunWritesTheSameBytes(@TempDir Path dir) throws IOException {
        Path fresh = dir.resolve("fresh.gguf");
        BenchGlmDsa.write(fresh, BenchGlmDsa.Scale.SMALL);
        assertEquals(-1, Files.mismatch(fresh, TestModels.benchModel(BenchGlmDsa.Scale.SMALL)), "fresh file differs from the cached one");
        assertTrue(TestModels.isCurrent(fresh));
    }

    @Test
    void hasTheTinyModelsTensorKindsAndVocabulary() throws IOException {
        try (GGUFFile bench = GGUFFile.open(TestModels.benchModel(BenchGlmDsa.Scale.SMALL));
                GGUFFile tiny = GGUFFile.open(TestModels.tinyQuantMix())) {
            assertEquals(tensorKinds(tiny), tensorKinds(bench));
            Metadata m = bench.metadata();
            assertEquals(tiny.metadata().keys(), m.keys(), "the same metadata keys");
            assertEquals(List.of(tiny.metadata().getStringArray("tokenizer.ggml.tokens")), List.of(m.getStringArray("tokenizer.ggml.tokens")));
            assertEquals(TinyGlmDsa.vocabularySize(), m.getInt("glm-dsa.vocab_size"));
            assertEquals(BenchGlmDsa.EXPERT_COUNT, m.getInt("glm-dsa.expert_count"));
            assertEquals(BenchGlmDsa.EXPERT_USED_COUNT, m.getInt("glm-dsa.expert_used_count"));
            assertEquals(2048, m.getInt("glm-dsa.attention.indexer.top_k"));
            assertTrue(m.getInt("glm-dsa.context_length") >= 16384);
            boolean[] indexerTypes = (boolean[]) m.get("glm-dsa.attention.indexer.types");
            for (boolean full : indexerTypes) {
                assertTrue(full, "every indexer is full, as in GLM-5");
            }
            assertArrayEquals(new long[] {256, 256, BenchGlmDsa.EXPERT_COUNT}, bench.tensor("blk.2.ffn_gate_exps.weight").shape());
            assertArrayEquals(new long[] {192, 512, 4}, bench.tensor("blk.1.attn_k_b.weight").shape());
        }
    }

    @Test
    void quantizationMixIsUnslothsUdQ2KXl() throws IOException {
        try (GGUFFile bench = GGUFFile.open(TestModels.benchModel(BenchGlmDsa.Scale.SMALL))) {
            assertEquals(GGMLType.Q4_K, bench.tensor("token_embd.weight").type());
            assertEquals(GGMLType.Q6_K, bench.tensor("output.weight").type());
            assertEquals(GGMLType.Q3_K, bench.tensor("blk.1.ffn_gate_exps.weight").type(), "the first MoE block is kept finer");
            assertEquals(GGMLType.Q4_K, bench.tensor("blk.1.ffn_down_exps.weight").type());
            assertEquals(GGMLType.Q2_K, bench.tensor("blk.2.ffn_up_exps.weight").type());
            assertEquals(GGMLType.Q4_K, bench.tensor("blk.2.ffn_down_exps.weight").type());
            for (TensorInfo t : bench.tensors()) {
                if (!t.name().contains("_exps.") && !t.name().startsWith("token_embd") && !t.name().startsWith("output.")) {
                    assertEquals(TinyGlmDsa.Variant.UD_Q2_K_XL.typeOf(roleOf(t.name()), 0), t.type(), t.name() + " as in the tiny mix");
                }
            }
        }
    }

    @Test
    void fullScaleIsAboutOneGigabyteOfMostlyExperts() throws IOException {
        GlmDsaShape shape = BenchGlmDsa.shape(BenchGlmDsa.Scale.FULL);
        assertTrue(shape.embeddingLength() >= 1024 && shape.embeddingLength() <= 2048);
        assertTrue(shape.expertCount() >= 32);
        assertTrue(shape.contextLength() >= 16384);
        long total = 0;
        long experts = 0;
        long routedExpertsRead = 0;
        for (TensorSpec spec : GlmDsaGenerator.tensors(shape, TinyGlmDsa.vocabularySize())) {
            long bytes = MIX.typeOf(spec.role(), spec.block()).byteSize(spec.elementCount());
            total += bytes;
            if (spec.role() == Role.EXPERT_GATE_UP || spec.role() == Role.EXPERT_DOWN) {
                experts += bytes;
                routedExpertsRead += bytes / shape.expertCount() * shape.expertUsedCount();
            }
        }
        assertTrue(total > 900_000_000L && total < 1_300_000_000L, total + " bytes");
        assertTrue(experts > 0.6 * total, "experts are " + experts + " of " + total + " bytes");
        assertTrue(routedExpertsRead > 80_000_000L, "a token reads " + routedExpertsRead + " bytes of experts, far more than any cache");
    }

    /** The tensor names with the block number taken out: which kinds of tensor the model has. */
    private static Set<String> tensorKinds(GGUFFile file) {
        Set<String> kinds = new TreeSet<>();
        for (TensorInfo t : file.tensors()) {
            kinds.add(t.name().replaceFirst("^blk\\.\\d+\\.", "blk.N."));
        }
        return kinds;
    }

    private static Role roleOf(String name) {
        return GlmDsaGenerator.tensors(BenchGlmDsa.shape(BenchGlmDsa.Scale.SMALL), 1).stream()
                .filter(spec -> spec.name().equals(name)).findFirst().orElseThrow().role();
    }
}
