package glmj.kernel;

import glmj.tensor.GGMLType;
import jdk.incubator.vector.FloatVector;

import static glmj.kernel.Lanes.F;
import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * Prompt matmuls of quantized weights: {@link #ROWS} weight rows at a time (a panel) are decoded to f32 once and
 * multiplied with every token of the batch, where the dot kernels decode each weight block again for every token. The
 * tokens are the same 8-bit activation quants the dot kernels read, as floats ({@link Activations#expanded}; f32 as they
 * are for block-scaled weights), so each product is one that ggml's {@code vec_dot} forms too; the sums differ from its
 * integer ones only by float rounding.
 * <p>
 * A panel is stored column by column ({@link #put}), so one column's {@link #ROWS} weights are two vectors: each token's
 * activation, broadcast, multiplies both, and a tile of {@link #TILE_TOKENS} tokens keeps twelve accumulators of whole
 * output rows in registers, as BLAS kernels do. Each output is a sum in column order, one lane's, stored without adding
 * lanes together. A tile loads two vectors of the panel and six activations per twelve FMAs, so the FMAs bound it,
 * not the caches the panel and the activations stream from (docs/performance.md).
 */
final class Panels {
    /** Rows per panel: two vectors, which with a tile's six tokens are twelve accumulators, fitting AVX2's registers. */
    static final int ROWS = 2 * F.length();

    /** Tokens from which decoding a panel once costs less than decoding its rows for every token. */
    static final int MIN_TOKENS = Integer.getInteger("glmj.panels.minTokens", 4);

    /** Tokens a tile multiplies with the panel at once. */
    private static final int TILE_TOKENS = 6;

    private Panels() {
    }

    /** Whether a matmul of {@code batch} tokens with weights of {@code type} is done in panels. */
    static boolean pay(GGMLType type, int batch) {
        // float weights' dot kernels read the weights as they are: nothing to decode once; q8_1's sums are rounded to
        // f16, which floats multiplied in a panel would not reproduce
        return batch >= MIN_TOKENS && (type.vecDotType().quantized() && type.vecDotType() != VecDotType.Q8_1
                || type.isBlockScaled());
    }

    /** Puts the {@code cols} decoded weights of {@code row} in row {@code k} of {@code panel}, column after column. */
    static void put(float[] row, int cols, float[] panel, int k) {
        for (int c = 0, at = k; c < cols; c++, at += ROWS) {
            panel[at] = row[c];
        }
    }

    /**
     * The dot products of the {@link #ROWS} rows of {@code cols} weights in {@code panel} with {@code tokens}
     * activation rows of {@code x} starting at row {@code firstToken}: token b's results go to
     * {@code out[at + b*outStride ..][0..ROWS)}.
     */
    static void multiply(float[] panel, int cols, float[] x, int firstToken, int tokens, float[] out, int at, int outStride) {
        for (int b = 0; b < tokens; b += TILE_TOKENS) {
            tile(panel, cols, x, (firstToken + b) * cols, Math.min(TILE_TOKENS, tokens - b), out, at + b * outStride, outStride);
        }
    }

    /**
     * Up to {@link #TILE_TOKENS} tokens, whose activations follow one another from {@code x0}, times the panel. A tile of
     * fewer tokens computes its last token in the missing ones' places and stores only its own: at full speed, where a
     * kernel with fewer accumulators would wait on the FMAs' latency.
     */
    private static void tile(float[] panel, int cols, float[] x, int x0, int tokens, float[] out, int out0, int outStride) {
        int last = x0 + (tokens - 1) * cols;
        int x1 = Math.min(x0 + cols, last), x2 = Math.min(x0 + 2 * cols, last), x3 = Math.min(x0 + 3 * cols, last);
        int x4 = Math.min(x0 + 4 * cols, last), x5 = Math.min(x0 + 5 * cols, last);
        FloatVector lo0 = FloatVector.zero(F), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0;
        FloatVector lo3 = lo0, hi3 = lo0, lo4 = lo0, hi4 = lo0, lo5 = lo0, hi5 = lo0;
        int n = F.length();
        for (int c = 0, at = 0; c < cols; c++, at += ROWS) {
            FloatVector lo = FloatVector.fromArray(F, panel, at);
            FloatVector hi = FloatVector.fromArray(F, panel, at + n);
            FloatVector t = FloatVector.broadcast(F, x[x0 + c]);
            lo0 = lo.lanewise(FMA, t, lo0);
            hi0 = hi.lanewise(FMA, t, hi0);
            t = FloatVector.broadcast(F, x[x1 + c]);
            lo1 = lo.lanewise(FMA, t, lo1);
            hi1 = hi.lanewise(FMA, t, hi1);
            t = FloatVector.broadcast(F, x[x2 + c]);
            lo2 = lo.lanewise(FMA, t, lo2);
            hi2 = hi.lanewise(FMA, t, hi2);
            t = FloatVector.broadcast(F, x[x3 + c]);
            lo3 = lo.lanewise(FMA, t, lo3);
            hi3 = hi.lanewise(FMA, t, hi3);
            t = FloatVector.broadcast(F, x[x4 + c]);
            lo4 = lo.lanewise(FMA, t, lo4);
            hi4 = hi.lanewise(FMA, t, hi4);
            t = FloatVector.broadcast(F, x[x5 + c]);
            lo5 = lo.lanewise(FMA, t, lo5);
            hi5 = hi.lanewise(FMA, t, hi5);
        }
        store(lo0, hi0, out, out0);
        if (tokens > 1) {
            store(lo1, hi1, out, out0 + outStride);
        }
        if (tokens > 2) {
            store(lo2, hi2, out, out0 + 2 * outStride);
        }
        if (tokens > 3) {
            store(lo3, hi3, out, out0 + 3 * outStride);
        }
        if (tokens > 4) {
            store(lo4, hi4, out, out0 + 4 * outStride);
        }
        if (tokens > 5) {
            store(lo5, hi5, out, out0 + 5 * outStride);
        }
    }

    /** One token's results for the panel's rows: its two accumulators, the low rows' and the high rows'. */
    private static void store(FloatVector lo, FloatVector hi, float[] out, int at) {
        lo.intoArray(out, at);
        hi.intoArray(out, at + F.length());
    }
}
