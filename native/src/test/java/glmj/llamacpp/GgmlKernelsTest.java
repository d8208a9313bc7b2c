package glmj.llamacpp;

import glmj.kernel.GgmlPrompt;
import glmj.kernel.Rows;
import glmj.kernel.VectorKernels;
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
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link GgmlKernels} gives, bit for bit, what llama.cpp's CPU backend computes: a single token what ggml's
 * {@code from_float} and {@code vec_dot} give when called directly on each input row and weight row, a batch what
 * ggml's {@code mul_mat} gives for each whole weight matrix and its tokens in a graph of its own (tinyBLAS, IQ panels or
 * {@code vec_dot} loops, whichever ggml takes). Its staging, conversion, strides, groups, token tiles and thread ranges
 * lose or move nothing. Several groups with their own inputs (the heads of attn_k_b), or one shared input (experts'
 * gate and up), with padded strides, more tokens than one tile, and rows that are whole IQ panels of 8 or not.
 */
class GgmlKernelsTest {
    /** Rows of the weights: not a multiple of 8 and a multiple, as ggml's IQ panels take only the latter. */
    private static final int[] ROW_COUNTS = {37, 40};
    private static final int COLS = 512;
    private static final int GROUPS = 3;
    private static final int BATCH = 11;
    private static final int X_STRIDE = COLS + 5;

    @BeforeAll
    static void initialize() {
        Oracle.library();
        GgmlCpu.ggml_cpu_init();
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "IQ4_NL", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS",
            "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"})
    void groupedMatmulsAreLlamaCppsProducts(GGMLType type) {
        for (int rows : ROW_COUNTS) {
            for (boolean shared : new boolean[] {false, true}) {
                for (int batch : new int[] {1, BATCH}) {
                    check(type, rows, shared, batch);
                }
            }
        }
    }

    private static void check(GGMLType type, int rows, boolean shared, int batch) {
        int outStride = GROUPS * rows + 7;
        Random random = new Random(0x66_0000L + type.id);
        try (Arena arena = Arena.ofShared(); GgmlKernels kernels = new GgmlKernels(2)) {
            long rowBytes = type.byteSize(COLS);
            Weight[] weights = new Weight[GROUPS];
            for (int g = 0; g < GROUPS; g++) {
                MemorySegment data = arena.allocate(rows * rowBytes + 1, 64).asSlice(1);
                VectorKernelsMatchGgmlTest.fillRandomBlocks(type, data, random);
                weights[g] = new Weight(type.ggmlName + "[" + g + "]", data, type, rows, COLS);
            }
            int xOffset = 3;
            int xGroupStride = shared ? 0 : batch * X_STRIDE;
            float[] x = new float[xOffset + GROUPS * batch * X_STRIDE];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            int outOffset = 2;
            float[] out = new float[outOffset + batch * outStride];
            kernels.matmuls(weights, new Rows(x, xOffset, xGroupStride, X_STRIDE), new Rows(out, outOffset, rows, outStride), batch);

            Direct direct = new Direct(type, arena);
            for (int g = 0; g < GROUPS; g++) {
                int firstRow = xOffset + g * xGroupStride;
                float[] expected = batch == 1 ? direct.dots(weights[g], x, firstRow) : mulMat(weights[g], x, firstRow, X_STRIDE, batch, arena);
                for (int b = 0; b < batch; b++) {
                    for (int r = 0; r < rows; r++) {
                        float actual = out[outOffset + g * rows + b * outStride + r];
                        if (Float.floatToIntBits(expected[b * rows + r]) != Float.floatToIntBits(actual)) {
                            fail(type.ggmlName + " " + rows + " rows" + (shared ? ", shared input" : ", own inputs") + ", batch " + batch
                                    + ": group " + g + " token " + b + " row " + r + ": " + actual + ", ggml's " + expected[b * rows + r]);
                        }
                    }
                }
            }
            for (int i = 0; i < out.length; i++) {
                int j = i - outOffset;
                boolean written = j >= 0 && j % outStride < GROUPS * rows && j / outStride < batch;
                if (!written) {
                    assertEquals(0f, out[i], "out[" + i + "] lies outside every result and must stay untouched");
                }
            }
        }
    }

    /**
     * A K-quant prompt batch from {@link GgmlPrompt#VEC_DOT}'s tokens on takes glmj's panels, rounded in float, only
     * where they beat ggml's loops (vectors of 256 bits or more); elsewhere it is ggml's own products, bit for bit.
     */
    @Test
    void kQuantPromptsTakeThePanelsOnlyWhereTheyBeatGgmlsLoops() {
        GGMLType type = GGMLType.Q4_K;
        int rows = 40, batch = GgmlPrompt.VEC_DOT.tokens;
        Random random = new Random(0x88_0000L);
        try (Arena arena = Arena.ofShared(); GgmlKernels kernels = new GgmlKernels(2)) {
            MemorySegment data = arena.allocate(rows * type.byteSize(COLS), 64);
            VectorKernelsMatchGgmlTest.fillRandomBlocks(type, data, random);
            Weight w = new Weight("q4_K", data, type, rows, COLS);
            float[] x = new float[batch * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] out = new float[batch * rows];
            kernels.matmuls(new Weight[] {w}, new Rows(x, 0, 0, COLS), new Rows(out, 0, rows, rows), batch);
            float[] expected = mulMat(w, x, 0, COLS, batch, arena);
            int differing = 0;
            for (int i = 0; i < out.length; i++) {
                assertEquals(expected[i], out[i], 1e-3f * (1 + Math.abs(expected[i])), "product " + i);
                differing += Float.floatToIntBits(expected[i]) != Float.floatToIntBits(out[i]) ? 1 : 0;
            }
            if (VectorKernels.PANELS_BEAT_GGML_LOOPS) {
                assertTrue(differing > 0, "the panels round in float, not as ggml's integer sums");
            } else {
                assertEquals(0, differing, "ggml's own loops of vec_dot");
            }
        }
    }

    /**
     * Experts of a prompt as one ragged step: groups with their own counts of tokens, some runs of input rows shared
     * or overlapping, results scattered to rows of their own.
     */
    @ParameterizedTest
    @EnumSource(names = {"F32", "Q8_0", "Q2_K", "Q4_K", "Q6_K", "IQ2_XXS", "IQ4_XS"})
    void raggedMatmulsAreLlamaCppsProducts(GGMLType type) {
        for (int rows : ROW_COUNTS) {
            checkRagged(type, rows);
        }
    }

    private static void checkRagged(GGMLType type, int rows) {
        int[] firstInput = {0, 4, 2, 12, 0};
        int[] tokens = {3, 9, 1, 5, 3};
        int[] firstOutput = {20, 0, 9, 10, 15};
        int inputs = 17, groups = tokens.length, outRows = 23;
        Random random = new Random(0x77_0000L + type.id);
        try (Arena arena = Arena.ofShared(); GgmlKernels kernels = new GgmlKernels(2)) {
            long rowBytes = type.byteSize(COLS);
            Weight[] weights = new Weight[groups];
            for (int g = 0; g < groups; g++) {
                MemorySegment data = arena.allocate(rows * rowBytes, 64);
                VectorKernelsMatchGgmlTest.fillRandomBlocks(type, data, random);
                weights[g] = new Weight(type.ggmlName + "[" + g + "]", data, type, rows, COLS);
            }
            float[] x = new float[inputs * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] out = new float[outRows * rows];
            kernels.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);

            boolean[] written = new boolean[outRows];
            for (int g = 0; g < groups; g++) {
                float[] expected = mulMat(weights[g], x, firstInput[g] * COLS, COLS, tokens[g], arena);
                for (int b = 0; b < tokens[g]; b++) {
                    int row = firstOutput[g] + b;
                    written[row] = true;
                    for (int r = 0; r < rows; r++) {
                        float actual = out[row * rows + r];
                        if (Float.floatToIntBits(expected[b * rows + r]) != Float.floatToIntBits(actual)) {
                            fail(type.ggmlName + " " + rows + " rows: group " + g + " token " + b + " row " + r + ": " + actual
                                    + ", ggml's mul_mat " + expected[b * rows + r]);
                        }
                    }
                }
            }
            for (int row = 0; row < outRows; row++) {
                for (int r = 0; !written[row] && r < rows; r++) {
                    assertEquals(0f, out[row * rows + r], "output row " + row + " is no group's and must stay untouched");
                }
            }
        }
    }

    /**
     * ggml's {@code mul_mat} of all of {@code w} with {@code tokens} f32 rows of {@code x} (from {@code from}, each
     * {@code stride} after the last), alone in a graph computed on one thread, as llama.cpp's CPU backend runs it:
     * token b's products at {@code [b * w.rows(), ...)}.
     */
    private static float[] mulMat(Weight w, float[] x, int from, int stride, int tokens, Arena arena) {
        MemorySegment input = arena.allocate((long) tokens * w.cols() * Float.BYTES, 64);
        for (int b = 0; b < tokens; b++) {
            MemorySegment.copy(x, from + b * stride, input, ValueLayout.JAVA_FLOAT, (long) b * w.cols() * Float.BYTES, w.cols());
        }
        MemorySegment output = arena.allocate((long) tokens * w.rows() * Float.BYTES, 64);
        MemorySegment memory = arena.allocate(3 * Ggml.ggml_tensor_overhead() + Ggml.ggml_graph_overhead_custom(8, false), 64);
        MemorySegment context = Ggml.ggml_init(Ggml.ggml_init_params.allocate(arena, memory, true));
        try {
            MemorySegment weights = Ggml.ggml_new_tensor_2d(context, w.type().id, w.cols(), w.rows());
            Ggml.ggml_tensor.data(weights, w.data().address());
            MemorySegment activations = Ggml.ggml_new_tensor_2d(context, GGMLType.F32.id, w.cols(), tokens);
            Ggml.ggml_tensor.data(activations, input.address());
            MemorySegment products = Ggml.ggml_mul_mat(context, weights, activations);
            Ggml.ggml_tensor.data(products, output.address());
            MemorySegment graph = Ggml.ggml_new_graph_custom(context, 8, false);
            Ggml.ggml_build_forward_expand(graph, products);
            MemorySegment plan = GgmlCpu.ggml_graph_plan(arena, graph, 1, MemorySegment.NULL);
            GgmlCpu.ggml_cplan.work_data(plan, arena.allocate(Math.max(1, GgmlCpu.ggml_cplan.work_size(plan)), 64));
            assertEquals(0, GgmlCpu.ggml_graph_compute(graph, plan), "ggml_graph_compute's status");
        } finally {
            Ggml.ggml_free(context);
        }
        return output.toArray(ValueLayout.JAVA_FLOAT);
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

    /** ggml's from_float and vec_dot of one weight type, called directly on one activation row: a decode step's products. */
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

        private void convert(float[] x, int from) {
            MemorySegment.copy(x, from, row, ValueLayout.JAVA_FLOAT, 0, COLS);
            if (f32) {
                MemorySegment.copy(row, 0, converted, 0, row.byteSize());
            } else {
                Ggml.ggml_to_float_t.invoke(fromFloat, row, converted, COLS);
            }
        }

        /** The dot products of every row of {@code w} with the row of {@code x} at {@code from}. */
        float[] dots(Weight w, float[] x, int from) {
            convert(x, from);
            float[] dots = new float[w.rows()];
            for (int r = 0; r < w.rows(); r++) {
                GgmlCpu.ggml_vec_dot_t.invoke(vecDot, COLS, result, 0, w.data().asSlice(r * w.rowBytes()), 0, converted, 0, 1);
                dots[r] = result.get(ValueLayout.JAVA_FLOAT, 0);
            }
            return dots;
        }
    }
}
