package glmj.kernel;

import glmj.tensor.GGMLType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static glmj.kernel.Lanes.F;
import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * Prompt matmuls of quantized weights: {@link #ROWS} weight rows at a time (a panel) are decoded to f32 once and
 * multiplied with every token of the batch, where the dot kernels decode each weight block again for every token. The
 * tokens are the same 8-bit activation quants the dot kernels read, as floats ({@link Activations#expanded}), so each
 * product is one that ggml's {@code vec_dot} forms too; the sums differ from its integer ones only by float rounding.
 */
final class Panels {
    /** Rows per panel: four rows times four tokens is sixteen accumulators, with registers to spare for the operands. */
    static final int ROWS = 4;

    /** Tokens from which decoding a panel once costs less than decoding its rows for every token. */
    static final int MIN_TOKENS = Integer.getInteger("glmj.panels.minTokens", 4);

    /** Size of the scratch {@link #multiply} spills its accumulators into, to add up their lanes. */
    static final int LANES = 4 * ROWS * F.length();

    private Panels() {
    }

    /** Whether a matmul of {@code batch} tokens with weights of {@code type} is done in panels. */
    static boolean pay(GGMLType type, int batch) {
        return batch >= MIN_TOKENS && switch (Activations.Format.forWeights(type)) {
            case Q8_0, Q8_K -> true;
            case F32, F16, BF16 -> false; // their dot kernels read the weights as they are: nothing to decode once
        };
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
        // through memory: sixteen calls of Lanes.sum would exceed C2's inlining budget, and an uninlined one boxes
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
        for (int b = 0; b < 4; b++) {
            for (int k = 0; k < ROWS; k++) {
                out[out0 + b * outStride + k] = Lanes.sum(lanes, (ROWS * b + k) * n);
            }
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
