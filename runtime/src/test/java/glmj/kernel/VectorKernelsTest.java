package glmj.kernel;

import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q8_0Block;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A ragged step (the experts of a prompt, each on its own tokens) gives, bit for bit, each group's own matmul: token
 * counts on both sides of where panels start to pay, runs of input rows shared or overlapping, results scattered.
 */
class VectorKernelsTest {
    private static final int ROWS = 43;
    private static final int COLS = 256;

    @ParameterizedTest
    @EnumSource(names = {"F32", "Q8_0"})
    void raggedMatmulsAreEachGroupsMatmul(GGMLType type) {
        int[] firstInput = {0, 4, 2, 12, 0, 3};
        int[] tokens = {3, 9, 1, 5, 3, 14};
        int[] firstOutput = {20, 0, 9, 10, 15, 23};
        int inputs = 17, groups = tokens.length, outRows = 37;
        SplittableRandom random = new SplittableRandom(5);
        try (Arena arena = Arena.ofShared(); VectorKernels kernels = new VectorKernels(2)) {
            Weight[] weights = new Weight[groups];
            for (int g = 0; g < groups; g++) {
                weights[g] = new Weight("w" + g, randomWeights(type, arena, random, ROWS, COLS), type, ROWS, COLS);
            }
            float[] x = new float[inputs * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] out = new float[outRows * ROWS];
            kernels.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);

            float[] expected = new float[outRows * ROWS];
            for (int g = 0; g < groups; g++) {
                kernels.matmuls(new Weight[] {weights[g]}, new Rows(x, firstInput[g] * COLS, 0, COLS),
                        new Rows(expected, firstOutput[g] * ROWS, 0, ROWS), tokens[g]);
            }
            for (int i = 0; i < out.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(out[i]),
                        type + ": output row " + i / ROWS + ", weight row " + i % ROWS + ": " + out[i] + ", alone " + expected[i]);
            }
        }
    }

    /** {@code rows} rows of {@code cols} random weights of {@code type} (F32 or Q8_0). */
    static MemorySegment randomWeights(GGMLType type, Arena arena, SplittableRandom random, int rows, int cols) {
        MemorySegment data = arena.allocate(rows * type.byteSize(cols), 64);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    data.set(LittleEndian.FLOAT, 4 * i, (float) random.nextGaussian());
                }
            }
            case Q8_0 -> {
                for (long block = 0; block < data.byteSize(); block += Q8_0Block.BYTES) {
                    data.set(LittleEndian.SHORT, block + Q8_0Block.D_OFFSET, Float.floatToFloat16((float) random.nextDouble(0.001, 0.02)));
                    for (int j = 0; j < Q8_0Block.WEIGHTS; j++) {
                        data.set(ValueLayout.JAVA_BYTE, block + Q8_0Block.QS_OFFSET + j, (byte) random.nextInt(-127, 128));
                    }
                }
            }
            default -> throw new IllegalArgumentException(type.toString());
        }
        return data;
    }
}
