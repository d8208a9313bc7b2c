package glmj.bench;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.openjdk.jmh.annotations.Param;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's weights are what a model's are like, and every type with a dot kernel is benchmarked. */
class BenchWeightsTest {

    @Test
    void benchmarksEveryTypeWithADotKernel() throws NoSuchFieldException {
        List<String> listed = List.of(KernelBench.class.getField("type").getAnnotation(Param.class).value());
        List<GGMLType> types = BenchWeights.benchmarkable();
        assertTrue(types.containsAll(List.of(GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.IQ4_NL,
                GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_XS)), types::toString);
        for (GGMLType type : types) {
            assertTrue(listed.contains(type.name()),
                    type + " has a dot kernel now: add it to KernelBench's type list");
        }
    }

    /** Quantized or random-byte blocks alike decode to finite weights of a trained projection's size. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "IQ4_NL", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS",
            "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"})
    void weightsAreOrdinary(GGMLType type) {
        int rows = 8;
        int cols = 512;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(3 * rows * type.byteSize(cols));
            BenchWeights.fill(type, data, 3L * rows, cols, rows, new Random(1));
            float[] weights = type.dequantizeAll(data, 3L * rows * cols);
            double sumSquares = 0;
            for (int i = 0; i < rows * cols; i++) {
                assertTrue(Float.isFinite(weights[i]), type + " weight " + i + " is " + weights[i]);
                assertEquals(weights[i], weights[i + 2 * rows * cols], type + ": the patch repeats");
                sumSquares += (double) weights[i] * weights[i];
            }
            double rms = Math.sqrt(sumSquares / (rows * cols));
            assertTrue(rms > 1e-4 && rms < 10, type + " weights have rms " + rms);
        }
    }
}
