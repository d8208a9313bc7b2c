package glmj.llamacpp;

import glmj.kernel.VectorKernels;
import glmj.kernel.Weight;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;
import glmj.testdata.BlockScales;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

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
    private static final int ROWS = 24;
    private static final int COLS = 4096;
    private static final int BATCH = 11;

    @BeforeAll
    static void initialize() {
        Oracle.library();
        GgmlCpu.ggml_cpu_init();
        System.out.println("ggml CPU kernels from " + GgmlCpu.variant().getFileName());
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "IQ4_NL", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS",
            "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"})
    void matmulMatchesGgmlVecDot(GGMLType type) {
        Random random = new Random(0xD07_0000L + type.id);
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2)) {
            long rowBytes = type.byteSize(COLS);
            MemorySegment weights = arena.allocate(ROWS * rowBytes + 1, 64).asSlice(1); // unaligned on purpose
            fillRandomBlocks(type, weights, random);
            float[] x = new float[BATCH * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * (random.nextInt(50) == 0 ? 20 : 1));
            }
            float[] ours = new float[BATCH * ROWS];
            kernels.matmul(new Weight(type.ggmlName, weights, type, ROWS, COLS), x, ours, BATCH);

            MemorySegment traits = GgmlCpu.ggml_get_type_traits_cpu(type.id);
            int dotType = GgmlCpu.ggml_type_traits_cpu.vec_dot_type(traits);
            MemorySegment fromFloat = GgmlCpu.ggml_type_traits_cpu.from_float(GgmlCpu.ggml_get_type_traits_cpu(dotType));
            MemorySegment vecDot = GgmlCpu.ggml_type_traits_cpu.vec_dot(traits);
            GGMLType activationType = GGMLType.byId(dotType);
            MemorySegment row = arena.allocate(Float.BYTES * COLS, 64);
            MemorySegment converted = arena.allocate(activationType.byteSize(COLS), 64);
            MemorySegment result = arena.allocate(Float.BYTES);
            float[] dequantized = new float[COLS];
            for (int b = 0; b < BATCH; b++) {
                MemorySegment.copy(x, b * COLS, row, ValueLayout.JAVA_FLOAT, 0, COLS);
                if (dotType == GGMLType.F32.id) {
                    MemorySegment.copy(row, 0, converted, 0, row.byteSize());
                } else {
                    Ggml.ggml_to_float_t.invoke(fromFloat, row, converted, COLS);
                }
                float[] roundedX = new float[COLS];
                activationType.dequantize(converted, 0, roundedX, 0, COLS);
                for (int r = 0; r < ROWS; r++) {
                    GgmlCpu.ggml_vec_dot_t.invoke(vecDot, COLS, result, 0, weights.asSlice(r * rowBytes), 0, converted, 0, 1);
                    float expected = result.get(ValueLayout.JAVA_FLOAT, 0);
                    type.dequantize(weights, r * rowBytes, dequantized, 0, COLS);
                    double magnitude = 0;
                    for (int i = 0; i < COLS; i++) {
                        magnitude += Math.abs((double) dequantized[i] * roundedX[i]);
                    }
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

    /** Random quant bytes with ordinary, finite scales (so sums are of comparable terms). */
    private static void fillRandomBlocks(GGMLType type, MemorySegment blocks, Random random) {
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
