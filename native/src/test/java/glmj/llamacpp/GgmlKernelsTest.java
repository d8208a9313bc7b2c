package glmj.llamacpp;

import glmj.kernel.Weight;
import glmj.tensor.GGMLType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link GgmlKernels} gives, bit for bit, what ggml's {@code from_float} and {@code vec_dot} give when called directly
 * on each input row and weight row: its staging, conversion, strides, groups, token tiles and thread ranges lose or
 * move nothing. Several groups with their own inputs (the heads of attn_k_b), or one shared input (experts' gate and
 * up), with padded strides, and more tokens than one tile.
 */
class GgmlKernelsTest {
    private static final int ROWS = 37;
    private static final int COLS = 512;
    private static final int GROUPS = 3;
    private static final int BATCH = 11;
    private static final int X_STRIDE = COLS + 5;
    private static final int OUT_STRIDE = GROUPS * ROWS + 7;

    @BeforeAll
    static void initialize() {
        Oracle.library();
        GgmlCpu.ggml_cpu_init();
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "IQ4_NL", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS",
            "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"})
    void groupedMatmulsAreGgmlsVecDots(GGMLType type) {
        for (boolean shared : new boolean[] {false, true}) {
            for (int batch : new int[] {1, BATCH}) {
                check(type, shared, batch);
            }
        }
    }

    private static void check(GGMLType type, boolean shared, int batch) {
        Random random = new Random(0x66_0000L + type.id);
        try (Arena arena = Arena.ofShared(); GgmlKernels kernels = new GgmlKernels(2)) {
            long rowBytes = type.byteSize(COLS);
            Weight[] weights = new Weight[GROUPS];
            for (int g = 0; g < GROUPS; g++) {
                MemorySegment data = arena.allocate(ROWS * rowBytes + 1, 64).asSlice(1);
                VectorKernelsMatchGgmlTest.fillRandomBlocks(type, data, random);
                weights[g] = new Weight(type.ggmlName + "[" + g + "]", data, type, ROWS, COLS);
            }
            int xOffset = 3;
            int xGroupStride = shared ? 0 : batch * X_STRIDE;
            float[] x = new float[xOffset + GROUPS * batch * X_STRIDE];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            int outOffset = 2;
            float[] out = new float[outOffset + batch * OUT_STRIDE];
            kernels.matmuls(weights, GROUPS, x, xOffset, xGroupStride, X_STRIDE, out, outOffset, ROWS, OUT_STRIDE, batch);

            Direct direct = new Direct(type, arena);
            for (int g = 0; g < GROUPS; g++) {
                for (int b = 0; b < batch; b++) {
                    direct.convert(x, xOffset + g * xGroupStride + b * X_STRIDE);
                    for (int r = 0; r < ROWS; r++) {
                        float expected = direct.dot(weights[g].data().asSlice(r * rowBytes));
                        float actual = out[outOffset + g * ROWS + b * OUT_STRIDE + r];
                        if (Float.floatToIntBits(expected) != Float.floatToIntBits(actual)) {
                            fail(type.ggmlName + (shared ? " shared input" : " own inputs") + ", batch " + batch + ": group " + g
                                    + " token " + b + " row " + r + ": " + actual + ", ggml's vec_dot " + expected);
                        }
                    }
                }
            }
            for (int i = 0; i < out.length; i++) {
                int j = i - outOffset;
                boolean written = j >= 0 && j % OUT_STRIDE < GROUPS * ROWS && j / OUT_STRIDE < batch;
                if (!written) {
                    assertEquals(0f, out[i], "out[" + i + "] lies outside every result and must stay untouched");
                }
            }
        }
    }

    /**
     * Experts of a prompt as one ragged step: groups with their own counts of tokens, some runs of input rows shared
     * or overlapping, results scattered to rows of their own.
     */
    @ParameterizedTest
    @EnumSource(names = {"F32", "Q8_0", "Q2_K", "Q4_K", "Q6_K", "IQ2_XXS", "IQ4_XS"})
    void raggedMatmulsAreGgmlsVecDots(GGMLType type) {
        int[] firstInput = {0, 4, 2, 12, 0};
        int[] tokens = {3, 9, 1, 5, 3};
        int[] firstOutput = {20, 0, 9, 10, 15};
        int inputs = 17, groups = tokens.length, outRows = 23;
        Random random = new Random(0x77_0000L + type.id);
        try (Arena arena = Arena.ofShared(); GgmlKernels kernels = new GgmlKernels(2)) {
            long rowBytes = type.byteSize(COLS);
            Weight[] weights = new Weight[groups];
            for (int g = 0; g < groups; g++) {
                MemorySegment data = arena.allocate(ROWS * rowBytes, 64);
                VectorKernelsMatchGgmlTest.fillRandomBlocks(type, data, random);
                weights[g] = new Weight(type.ggmlName + "[" + g + "]", data, type, ROWS, COLS);
            }
            float[] x = new float[inputs * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] out = new float[outRows * ROWS];
            kernels.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);

            Direct direct = new Direct(type, arena);
            boolean[] written = new boolean[outRows];
            for (int g = 0; g < groups; g++) {
                for (int b = 0; b < tokens[g]; b++) {
                    direct.convert(x, (firstInput[g] + b) * COLS);
                    int row = firstOutput[g] + b;
                    written[row] = true;
                    for (int r = 0; r < ROWS; r++) {
                        float expected = direct.dot(weights[g].data().asSlice(r * rowBytes));
                        float actual = out[row * ROWS + r];
                        if (Float.floatToIntBits(expected) != Float.floatToIntBits(actual)) {
                            fail(type.ggmlName + ": group " + g + " token " + b + " row " + r + ": " + actual
                                    + ", ggml's vec_dot " + expected);
                        }
                    }
                }
            }
            for (int row = 0; row < outRows; row++) {
                for (int r = 0; !written[row] && r < ROWS; r++) {
                    assertEquals(0f, out[row * ROWS + r], "output row " + row + " is no group's and must stay untouched");
                }
            }
        }
    }

    @Test
    void typesWithoutAKernelAreRefusedByName() {
        try (Arena arena = Arena.ofShared(); GgmlKernels kernels = new GgmlKernels(1)) {
            float[] out = new float[1];
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> kernels.matmul(
                    new Weight("counts", arena.allocate(8 * 64), GGMLType.I64, 1, 64), new float[64], out, 1));
            assertEquals("ggml has no CPU dot kernel for weights of type i64", refused.getMessage());
        }
    }

    /** ggml's from_float and vec_dot of one weight type, called directly on one activation row. */
    private static final class Direct {
        private final GGMLType type;
        private final MemorySegment fromFloat;
        private final MemorySegment vecDot;
        private final MemorySegment row;
        private final MemorySegment converted;
        private final MemorySegment result;
        private final boolean f32;

        Direct(GGMLType type, Arena arena) {
            this.type = type;
            MemorySegment traits = GgmlCpu.ggml_get_type_traits_cpu(type.id);
            int dotType = GgmlCpu.ggml_type_traits_cpu.vec_dot_type(traits);
            f32 = dotType == GGMLType.F32.id;
            fromFloat = GgmlCpu.ggml_type_traits_cpu.from_float(GgmlCpu.ggml_get_type_traits_cpu(dotType));
            vecDot = GgmlCpu.ggml_type_traits_cpu.vec_dot(traits);
            row = arena.allocate(Float.BYTES * COLS, 64);
            converted = arena.allocate(GGMLType.byId(dotType).byteSize(COLS), 64);
            result = arena.allocate(Float.BYTES);
        }

        void convert(float[] x, int from) {
            MemorySegment.copy(x, from, row, ValueLayout.JAVA_FLOAT, 0, COLS);
            if (f32) {
                MemorySegment.copy(row, 0, converted, 0, row.byteSize());
            } else {
                Ggml.ggml_to_float_t.invoke(fromFloat, row, converted, COLS);
            }
        }

        float dot(MemorySegment weightRow) {
            GgmlCpu.ggml_vec_dot_t.invoke(vecDot, COLS, result, 0, weightRow, 0, converted, 0, 1);
            return result.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }
}
