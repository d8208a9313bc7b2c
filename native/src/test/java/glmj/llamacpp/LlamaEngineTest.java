package glmj.llamacpp;

import glmj.generate.Session;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.generate.ContextFullException;
import glmj.testdata.TestModels;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class LlamaEngineTest {

    @Test
    void truncatingAndFeedingTheSameTokensAgainGivesTheSameLogits() {
        Oracle.library();
        int[] prompt = IntStream.range(0, 40).map(i -> 1000 + 37 * i).toArray();
        try (LlamaEngine model = new LlamaEngine(List.of(TestModels.tinyQuantMix()), 64, 16, 2, false); Session engine = model.newSession()) {
            assertEquals(151_679, engine.vocabularySize());
            assertEquals(64, engine.contextSize());
            float[] first = engine.forward(prompt, 0, prompt.length).clone();
            assertEquals(40, engine.position());
            assertTrue(IntStream.range(0, first.length).allMatch(i -> Float.isFinite(first[i])));

            engine.truncate(24);
            float[] again = engine.forward(prompt, 24, 16);
            assertEquals(40, engine.position());
            assertArrayEquals(first, again, 1e-4f, "same tokens at the same positions after truncation");

            ContextFullException full = assertThrows(ContextFullException.class, () -> engine.forward(prompt, 0, 25));
            assertTrue(full.getMessage().contains("40 tokens held + 25 new > 64"), full.getMessage());
        }
    }

    @Test
    void byDefaultLlamaCppRepacksThePromptKernelsWeightsWhichPlainKernelsDoNot() {
        Oracle.library();
        Assumptions.assumeFalse(LlamaEngine.cpuHasAmx(), "on AMX CPUs glmj keeps llama.cpp's weights plain");
        // the tiny mix's q4_K weights are what llama.cpp repacks, with AVX2 on x86 and always on 64-bit ARM
        Assumptions.assumeTrue(GgmlCpu.ggml_cpu_has_avx2() || System.getProperty("os.arch").equals("aarch64"),
                "llama.cpp repacks no weight of the tiny mix on this CPU");
        int[] prompt = IntStream.range(0, 40).map(i -> 1000 + 37 * i).toArray();
        float[] defaults = lastLogits(false, prompt);
        float[] plain = lastLogits(true, prompt);
        assertArrayEquals(defaults, lastLogits(false, prompt), "the repacked kernels are deterministic");
        assertArrayEquals(plain, lastLogits(true, prompt), "the plain kernels are deterministic");
        assertTrue(IntStream.range(0, defaults.length).allMatch(i -> Float.isFinite(defaults[i])));
        // how far apart they end up is JavaLogitsMatchLlamaTest's measure (random weights magnify a rounding's flips)
        assertFalse(Arrays.equals(defaults, plain), "the repacked kernels round a 40-token prompt otherwise");
    }

    private static float[] lastLogits(boolean plainKernels, int[] prompt) {
        try (LlamaEngine model = new LlamaEngine(List.of(TestModels.tinyQuantMix()), 64, 64, 2, plainKernels);
             Session engine = model.newSession()) {
            return engine.forward(prompt, 0, prompt.length).clone();
        }
    }
}
