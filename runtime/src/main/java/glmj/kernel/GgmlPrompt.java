package glmj.kernel;

/**
 * The kernel ggml's CPU {@code mul_mat} gives a batch's matmul of a weight type, a column of the type table that the
 * ggml backend mirrors: it picks by the weight's rows and the tokens too, so a range of rows must lead ggml to the
 * kernel llama.cpp's whole weight gets, or no row's result would be independent of the split.
 */
public enum GgmlPrompt {
    /** ggml has no kernel for the type, or lacks the type: the vector kernels multiply it. */
    NONE(1, Integer.MAX_VALUE),
    /** Whatever {@code mul_mat} picks (tinyBLAS for q8_0 and iq4_nl), for weights of any rows. */
    MUL_MAT(1, 2),
    /** tinyBLAS on float weights, in whole tiles of 4 rows: a weight of other rows takes {@code vec_dot}. */
    FLOAT_TILES(4, 2),
    /**
     * ggml's IQ panels ({@code iqp.cpp}), from 8 tokens on whole panels of 8 rows; they read f32 activations, which
     * each graph converts itself. Other batches take {@code vec_dot}.
     */
    IQ_PANELS(8, 8),
    /**
     * Loops of {@code vec_dot}, decoding every block again for each token: with vectors of 256 bits or more glmj's
     * decoded panels beat them from 32 tokens (see docs/performance.md), so those batches run on the panels.
     */
    VEC_DOT(1, 32);

    /** Rows a weight must be a whole number of for this kernel. */
    public final int rows;
    /** Tokens from which a batch takes this kernel. */
    public final int tokens;

    GgmlPrompt(int rows, int tokens) {
        this.rows = rows;
        this.tokens = tokens;
    }
}
