package glmj.llamacpp;

import glmj.kernel.FloatDots;
import glmj.kernel.VectorKernels;
import glmj.kernel.Weight;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;
import glmj.testdata.BlockScales;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Our matmul kernels against ggml's own CPU kernels ({@code from_float} of the weight type's vec_dot_type, then
 * {@code vec_dot}), from the CPU backend variant ggml picks on this machine, on random weights (every quant byte
 * random, scales of ordinary magnitude) and random activations.
 *
 * <p>Bound: both sides round the activations identically and, for quantized types, sum the 8-bit products exactly as
 * integers within each block; what differs is the order of the float operations that scale and add the blocks' (or,
 * for float types, the lanes') partial sums. Each of those at most {@code n} additions rounds by at most 2^-24 of a
 * partial sum no larger than S = sum of |weight * activation|, so each side is within n * 2^-24 * S of the exact value,
 * and the two within twice that. An activation rounded differently would move a result by a whole 8-bit step, about
 * 1/127 of a term: far outside the bound.
 */
class VectorKernelsMatchGgmlTest {
    /** Whole panels (two of 32 rows with 512-bit vectors, four of 16 with 256-bit ones) and 8 rows left to the dot kernels. */
    private static final int ROWS = 72;
    private static final int COLS = 4096;
    /** Below the batch from which quantized weights go through decoded panels: every token dots the stored rows. */
    private static final int DECODE_BATCH = 3;
    /** A panel's tile of six tokens and one of five. */
    private static final int PROMPT_BATCH = 11;

    @BeforeAll
    static void initialize() {
        Oracle.library();
        GgmlCpu.ggml_cpu_init();
        System.out.println("ggml CPU kernels from " + GgmlCpu.variant().getFileName());
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS",
            "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"})
    void matmulMatchesGgmlVecDot(GGMLType type) {
        matchesGgmlVecDot(type, DECODE_BATCH);
    }

    /** Types with q8_1 activations keep their dots in a prompt: a panel's floats would not round q8_1's sums to f16. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_1"})
    void promptMatmulOfQ8_1TypesMatchesGgmlVecDot(GGMLType type) {
        matchesGgmlVecDot(type, PROMPT_BATCH);
    }

    private static void matchesGgmlVecDot(GGMLType type, int batch) {
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2)) {
            Case c = new Case(type, batch, arena);
            float[] ours = c.multiply(kernels);
            for (int b = 0; b < batch; b++) {
                c.convert(b);
                for (int r = 0; r < ROWS; r++) {
                    float expected = c.ggmlVecDot(r);
                    double magnitude = c.magnitude(r);
                    int additions = type.blockSize == 1 ? COLS : COLS / type.blockSize * 8;
                    double bound = 2 * additions * 0x1p-24 * magnitude;
                    float actual = ours[b * ROWS + r];
                    if (!(Math.abs(actual - expected) <= bound)) {
                        fail(type.ggmlName + " row " + r + " token " + b + ": ours " + actual + ", ggml " + expected
                                + ", |diff| " + Math.abs(actual - expected) + " > bound " + bound + " (sum |terms| " + magnitude + ")");
                    }
                }
            }
        }
    }

    /**
     * f32 weights, and the indexer's f32 dot products, add in ggml_vec_dot_f32's order for this machine's vector width
     * (four vectors of partial sums, then GGML_F32_VEC_REDUCE), so single tokens get ggml's results bit for bit: the
     * greedy continuations of the F32 test model depend on it (GreedyContinuationMatchesLlamaTest). Only where our
     * vectors are as wide as ggml's, the machine's widest: not under {@code -Dglmj.vector.bits} set narrower.
     */
    @Test
    void f32DotsAreGgmlVecDotBitForBit() {
        int machineBits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assumeTrue(Integer.getInteger("glmj.vector.bits", machineBits) == machineBits, "kernels narrower than the machine's vectors");
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2)) {
            Case c = new Case(GGMLType.F32, DECODE_BATCH, arena);
            float[] ours = c.multiply(kernels);
            float[] weightRow = new float[COLS];
            for (int b = 0; b < DECODE_BATCH; b++) {
                c.convert(b);
                for (int r = 0; r < ROWS; r++) {
                    float expected = c.ggmlVecDot(r);
                    GGMLType.F32.dequantize(c.weights, r * c.rowBytes, weightRow, 0, COLS);
                    assertEquals(expected, ours[b * ROWS + r], 0f, "matmul row " + r + " token " + b);
                    assertEquals(expected, FloatDots.f32(weightRow, 0, c.roundedX, 0, COLS), 0f, "dot of row " + r + " token " + b);
                }
            }
        }
    }

    /**
     * A prompt's batch of quantized weights goes through decoded panels: each result is the dot product of the row as
     * ggml's {@code to_float} decodes it (our scalar dequantizers match that bit for bit, see DequantizeMatchesGgmlTest)
     * with the activations as ggml quantizes them, summed in float: one lane's chain of COLS multiply-adds per result, in
     * any vector width, each rounding by at most 2^-24 of the sum of |terms|.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q5_0", "Q8_0", "IQ4_NL", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS",
            "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"})
    void promptMatmulIsTheDotOfDecodedRows(GGMLType type) {
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2)) {
            Case c = new Case(type, PROMPT_BATCH, arena);
            float[] ours = c.multiply(kernels);
            for (int b = 0; b < PROMPT_BATCH; b++) {
                c.convert(b);
                for (int r = 0; r < ROWS; r++) {
                    type.dequantize(c.weights, r * c.rowBytes, c.dequantized, 0, COLS);
                    double expected = 0;
                    for (int i = 0; i < COLS; i++) {
                        expected += (double) c.dequantized[i] * c.roundedX[i];
                    }
                    double bound = COLS * 0x1p-24 * c.magnitude(r);
                    float actual = ours[b * ROWS + r];
                    if (!(Math.abs(actual - expected) <= bound)) {
                        fail(type.ggmlName + " row " + r + " token " + b + ": ours " + actual + ", exact " + expected
                                + ", |diff| " + Math.abs(actual - expected) + " > bound " + bound);
                    }
                }
            }
        }
    }

    /** Decoding a row (as the prompt path and embedding lookups do) gives the scalar dequantizer's values exactly. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS",
            "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"})
    void rowsDecodeAsTheScalarDequantizer(GGMLType type) {
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(1)) {
            Case c = new Case(type, 1, arena);
            Weight w = new Weight(type.ggmlName, c.weights, type, ROWS, COLS);
            float[] decoded = new float[COLS];
            for (int r = 0; r < ROWS; r++) {
                kernels.row(w, r, decoded, 0);
                type.dequantize(c.weights, r * c.rowBytes, c.dequantized, 0, COLS);
                for (int i = 0; i < COLS; i++) {
                    if (Float.floatToIntBits(decoded[i]) != Float.floatToIntBits(c.dequantized[i])) {
                        fail(type.ggmlName + " row " + r + " weight " + i + ": decoded " + decoded[i] + ", scalar " + c.dequantized[i]);
                    }
                }
            }
        }
    }

    /** Random weights and activations of one type, and ggml's conversion of one activation row at a time. */
    private static final class Case {
        final GGMLType type;
        final long rowBytes;
        final MemorySegment weights;
        final float[] x;
        final int batch;
        final float[] roundedX = new float[COLS];
        final float[] dequantized = new float[COLS];
        private final MemorySegment vecDot;
        private final MemorySegment fromFloat;
        private final int dotType;
        private final GGMLType activationType;
        private final MemorySegment row;
        private final MemorySegment converted;
        private final MemorySegment result;

        Case(GGMLType type, int batch, Arena arena) {
            this.type = type;
            this.batch = batch;
            Random random = new Random(0xD07_0000L + type.id + 1000L * batch);
            rowBytes = type.byteSize(COLS);
            weights = arena.allocate(ROWS * rowBytes + 1, 64).asSlice(1); // unaligned on purpose
            fillRandomBlocks(type, weights, random);
            x = new float[batch * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * (random.nextInt(50) == 0 ? 20 : 1));
            }
            MemorySegment traits = GgmlCpu.ggml_get_type_traits_cpu(type.id);
            dotType = GgmlCpu.ggml_type_traits_cpu.vec_dot_type(traits);
            fromFloat = GgmlCpu.ggml_type_traits_cpu.from_float(GgmlCpu.ggml_get_type_traits_cpu(dotType));
            vecDot = GgmlCpu.ggml_type_traits_cpu.vec_dot(traits);
            activationType = GGMLType.byId(dotType);
            row = arena.allocate(Float.BYTES * COLS, 64);
            converted = arena.allocate(activationType.byteSize(COLS), 64);
            result = arena.allocate(Float.BYTES);
        }

        /** Our matmul of the whole batch: token b's results at [b * ROWS, (b + 1) * ROWS). */
        float[] multiply(VectorKernels kernels) {
            float[] ours = new float[batch * ROWS];
            kernels.matmul(new Weight(type.ggmlName, weights, type, ROWS, COLS), x, ours, batch);
            return ours;
        }

        /** Converts token b as ggml does, into {@link #roundedX} (its values) and ggml's own form for vec_dot. */
        void convert(int b) {
            MemorySegment.copy(x, b * COLS, row, ValueLayout.JAVA_FLOAT, 0, COLS);
            if (dotType == GGMLType.F32.id) {
                MemorySegment.copy(row, 0, converted, 0, row.byteSize());
            } else {
                Ggml.ggml_to_float_t.invoke(fromFloat, row, converted, COLS);
            }
            if (activationType == GGMLType.Q8_1) { // d, the scaled sum (checked by the weights' minimums), 32 quants
                for (int i = 0; i < COLS; i++) {
                    long block = i / 32 * activationType.typeSize;
                    roundedX[i] = LittleEndian.f16(converted, block) * converted.get(ValueLayout.JAVA_BYTE, block + 4 + i % 32);
                }
            } else {
                activationType.dequantize(converted, 0, roundedX, 0, COLS);
            }
        }

        /** ggml's vec_dot of weight row r with the converted token. */
        float ggmlVecDot(int r) {
            GgmlCpu.ggml_vec_dot_t.invoke(vecDot, COLS, result, 0, weights.asSlice(r * rowBytes), 0, converted, 0, 1);
            return result.get(ValueLayout.JAVA_FLOAT, 0);
        }

        /** The sum of |weight * activation| over row r and the converted token. */
        double magnitude(int r) {
            type.dequantize(weights, r * rowBytes, dequantized, 0, COLS);
            double magnitude = 0;
            for (int i = 0; i < COLS; i++) {
                magnitude += Math.abs((double) dequantized[i] * roundedX[i]);
            }
            return magnitude;
        }
    }

    /** Random quant bytes with ordinary, finite scales (so sums are of comparable terms). */
    static void fillRandomBlocks(GGMLType type, MemorySegment blocks, Random random) {
        byte[] bytes = new byte[Math.toIntExact(blocks.byteSize())];
        random.nextBytes(bytes);
        MemorySegment.copy(bytes, 0, blocks, ValueLayout.JAVA_BYTE, 0, bytes.length);
        if (type == GGMLType.F32) {
            for (long i = 0; i < blocks.byteSize() / 4; i++) {
                blocks.set(LittleEndian.FLOAT, 4 * i, (float) random.nextGaussian());
            }
            return;
        }
        if (type == GGMLType.F16 || type == GGMLType.BF16) {
            for (long i = 0; i < blocks.byteSize() / 2; i++) {
                float value = (float) random.nextGaussian();
                short bits = type == GGMLType.F16 ? Float.floatToFloat16(value) : (short) (Float.floatToRawIntBits(value) >>> 16);
                blocks.set(LittleEndian.SHORT, 2 * i, bits);
            }
            return;
        }
        BlockScales.set(type, blocks, () -> ordinaryHalf(random));
    }

    private static short ordinaryHalf(Random random) {
        return Float.floatToFloat16((float) ((random.nextBoolean() ? 1 : -1) * Math.exp(random.nextGaussian() * 2) * 0.01));
    }
}
