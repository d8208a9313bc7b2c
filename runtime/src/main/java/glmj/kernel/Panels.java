package glmj.kernel;

import glmj.tensor.GGMLType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.util.Arrays;

import static glmj.kernel.Lanes.F;
import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * Prompt matmuls of quantized weights: {@link #ROWS} weight rows at a time (a panel) are decoded to f32 once and
 * multiplied with every token of the batch, where the dot kernels decode each weight block again for every token. The
 * tokens are the same 8-bit activation quants the dot kernels read, as floats ({@link Activations#expanded}; f32 as they
 * are for block-scaled weights), so each
 * product is one that ggml's {@code vec_dot} forms too; the sums differ from its integer ones only by float rounding.
 */
final class Panels {
    /** Rows per panel: four rows times four tokens is sixteen accumulators, with registers to spare for the operands. */
    static final int ROWS = 4;

    /** Tokens from which decoding a panel once costs less than decoding its rows for every token. */
    static final int MIN_TOKENS = Integer.getInteger("glmj.panels.minTokens", 4);

    /** Size of the scratch {@link #multiply} spills its accumulators into, to add up their lanes. */
    static final int LANES = 4 * ROWS * F.length();

    /**
     * {@link #fourTokens} adds up its sixteen accumulators in {@link #LEVELS} levels of {@link #sumHalves}, each halving
     * the lanes per accumulator and the vectors holding them, until each accumulator is one lane (512-bit vectors) or
     * the last vectors are full: the order of {@link Lanes#sum}, the work of vector adds and permutes instead of
     * scalar adds through memory.
     */
    private static final int LEVELS = Math.min(4, Integer.numberOfTrailingZeros(F.length()));
    /** Per level: lanes moved up or down by the level's half, and the lanes of every second half. */
    private static final VectorShuffle<Float> UP0 = moved(0, -1), UP1 = moved(1, -1), UP2 = moved(2, -1), UP3 = moved(3, -1);
    private static final VectorShuffle<Float> DOWN0 = moved(0, 1), DOWN1 = moved(1, 1), DOWN2 = moved(2, 1), DOWN3 = moved(3, 1);
    private static final VectorMask<Float> ODD0 = odd(0), ODD1 = odd(1), ODD2 = odd(2), ODD3 = odd(3);
    /** The accumulator, numbered {@code ROWS * token + row}, whose sum {@link #fourTokens} leaves in each of its lanes. */
    private static final int[] SUMMED = new int[16];

    static {
        int lanes = F.length();
        // which accumulator each lane of the vectors of each level holds, starting from c00, c10, ..., c33
        int[][] holds = new int[16][lanes];
        for (int v = 0; v < 16; v++) {
            Arrays.fill(holds[v], ROWS * (v / 4) + v % 4);
        }
        for (int level = 0, vectors = 16; level < LEVELS; level++, vectors /= 2) {
            int half = half(level);
            for (int v = 0; v < vectors / 2; v++) {
                int[] a = holds[2 * v], b = holds[2 * v + 1], summed = new int[lanes];
                for (int j = 0; j < lanes; j++) {
                    summed[j] = (j / half) % 2 == 0 ? a[j] : b[j - half];
                }
                holds[v] = summed;
            }
        }
        for (int i = 0; i < 16; i++) {
            SUMMED[i] = holds[i / lanes][i % lanes];
        }
    }

    private Panels() {
    }

    private static int half(int level) {
        return Math.max(1, F.length() >> (level + 1));
    }

    private static VectorShuffle<Float> moved(int level, int direction) {
        int half = half(level);
        return VectorShuffle.fromOp(F, j -> Math.floorMod(j + direction * half, F.length()));
    }

    private static VectorMask<Float> odd(int level) {
        int half = half(level);
        boolean[] odd = new boolean[F.length()];
        for (int j = 0; j < odd.length; j++) {
            odd[j] = (j / half) % 2 == 1;
        }
        return VectorMask.fromArray(F, odd, 0);
    }

    /** Whether a matmul of {@code batch} tokens with weights of {@code type} is done in panels. */
    static boolean pay(GGMLType type, int batch) {
        // float weights' dot kernels read the weights as they are: nothing to decode once; q8_1's sums are rounded to
        // f16, which floats multiplied in a panel would not reproduce
        return batch >= MIN_TOKENS && (type.vecDotType().quantized() && type.vecDotType() != VecDotType.Q8_1
                || type.isBlockScaled());
    }

    /**
     * The dot products of the {@link #ROWS} rows of {@code cols} weights in {@code panel} with {@code tokens}
     * activation rows of {@code x} starting at row {@code firstToken}: token b's results go to
     * {@code out[at + b*outStride ..][0..ROWS)}. {@code lanes} is the calling thread's scratch of {@link #LANES}.
     */
    static void multiply(float[] panel, int cols, float[] x, int firstToken, int tokens, float[] out, int at, int outStride,
                         float[] lanes) {
        int b = 0;
        for (; b + 4 <= tokens; b += 4) {
            fourTokens(panel, cols, x, (firstToken + b) * cols, out, at + b * outStride, outStride, lanes);
        }
        for (; b < tokens; b++) {
            oneToken(panel, cols, x, (firstToken + b) * cols, out, at + b * outStride, lanes);
        }
    }

    /** Four rows times four tokens, whose activations follow one another. */
    private static void fourTokens(float[] w, int cols, float[] x, int x0, float[] out, int out0, int outStride, float[] lanes) {
        FloatVector c00 = FloatVector.zero(F), c10 = c00, c20 = c00, c30 = c00;
        FloatVector c01 = c00, c11 = c00, c21 = c00, c31 = c00;
        FloatVector c02 = c00, c12 = c00, c22 = c00, c32 = c00;
        FloatVector c03 = c00, c13 = c00, c23 = c00, c33 = c00;
        for (int i = 0; i < cols; i += F.length()) {
            FloatVector w0 = FloatVector.fromArray(F, w, i);
            FloatVector w1 = FloatVector.fromArray(F, w, cols + i);
            FloatVector w2 = FloatVector.fromArray(F, w, 2 * cols + i);
            FloatVector w3 = FloatVector.fromArray(F, w, 3 * cols + i);
            FloatVector t = FloatVector.fromArray(F, x, x0 + i);
            c00 = w0.lanewise(FMA, t, c00);
            c10 = w1.lanewise(FMA, t, c10);
            c20 = w2.lanewise(FMA, t, c20);
            c30 = w3.lanewise(FMA, t, c30);
            t = FloatVector.fromArray(F, x, x0 + cols + i);
            c01 = w0.lanewise(FMA, t, c01);
            c11 = w1.lanewise(FMA, t, c11);
            c21 = w2.lanewise(FMA, t, c21);
            c31 = w3.lanewise(FMA, t, c31);
            t = FloatVector.fromArray(F, x, x0 + 2 * cols + i);
            c02 = w0.lanewise(FMA, t, c02);
            c12 = w1.lanewise(FMA, t, c12);
            c22 = w2.lanewise(FMA, t, c22);
            c32 = w3.lanewise(FMA, t, c32);
            t = FloatVector.fromArray(F, x, x0 + 3 * cols + i);
            c03 = w0.lanewise(FMA, t, c03);
            c13 = w1.lanewise(FMA, t, c13);
            c23 = w2.lanewise(FMA, t, c23);
            c33 = w3.lanewise(FMA, t, c33);
        }
        // through memory: summing sixteen vectors in registers would exceed C2's inlining budget, and then box them
        int n = F.length();
        c00.intoArray(lanes, 0);
        c10.intoArray(lanes, n);
        c20.intoArray(lanes, 2 * n);
        c30.intoArray(lanes, 3 * n);
        c01.intoArray(lanes, 4 * n);
        c11.intoArray(lanes, 5 * n);
        c21.intoArray(lanes, 6 * n);
        c31.intoArray(lanes, 7 * n);
        c02.intoArray(lanes, 8 * n);
        c12.intoArray(lanes, 9 * n);
        c22.intoArray(lanes, 10 * n);
        c32.intoArray(lanes, 11 * n);
        c03.intoArray(lanes, 12 * n);
        c13.intoArray(lanes, 13 * n);
        c23.intoArray(lanes, 14 * n);
        c33.intoArray(lanes, 15 * n);
        sumSixteen(lanes);
        for (int i = 0; i < 16; i++) {
            int sum = SUMMED[i];
            out[out0 + (sum / ROWS) * outStride + sum % ROWS] = lanes[i];
        }
    }

    /** The lane sums of the sixteen vectors at {@code lanes[0..16 * F.length())}, left at {@code lanes[0..16)} as {@link #SUMMED} says. */
    private static void sumSixteen(float[] lanes) {
        sumHalves(lanes, 8, UP0, DOWN0, ODD0);
        sumHalves(lanes, 4, UP1, DOWN1, ODD1);
        if (LEVELS > 2) {
            sumHalves(lanes, 2, UP2, DOWN2, ODD2);
        }
        if (LEVELS > 3) {
            sumHalves(lanes, 1, UP3, DOWN3, ODD3);
        }
    }

    /**
     * One level of {@link #sumSixteen}: vectors 2v and 2v+1 become vector v, in every two halves of the level's width
     * holding the first's halves added, then the second's.
     */
    private static void sumHalves(float[] lanes, int pairs, VectorShuffle<Float> up, VectorShuffle<Float> down, VectorMask<Float> odd) {
        int n = F.length();
        for (int v = 0; v < pairs; v++) {
            FloatVector a = FloatVector.fromArray(F, lanes, 2 * v * n);
            FloatVector b = FloatVector.fromArray(F, lanes, (2 * v + 1) * n);
            FloatVector firsts = a.blend(b.rearrange(up), odd);
            FloatVector seconds = a.rearrange(down).blend(b, odd);
            firsts.lanewise(VectorOperators.ADD, seconds).intoArray(lanes, v * n);
        }
    }

    private static void oneToken(float[] w, int cols, float[] x, int x0, float[] out, int out0, float[] lanes) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int i = 0; i < cols; i += F.length()) {
            FloatVector t = FloatVector.fromArray(F, x, x0 + i);
            c0 = FloatVector.fromArray(F, w, i).lanewise(FMA, t, c0);
            c1 = FloatVector.fromArray(F, w, cols + i).lanewise(FMA, t, c1);
            c2 = FloatVector.fromArray(F, w, 2 * cols + i).lanewise(FMA, t, c2);
            c3 = FloatVector.fromArray(F, w, 3 * cols + i).lanewise(FMA, t, c3);
        }
        c0.intoArray(lanes, 0);
        c1.intoArray(lanes, F.length());
        c2.intoArray(lanes, 2 * F.length());
        c3.intoArray(lanes, 3 * F.length());
        for (int k = 0; k < ROWS; k++) {
            out[out0 + k] = Lanes.sum(lanes, k * F.length());
        }
    }
}
