package glmj.kernel;

import java.util.function.IntConsumer;

/**
 * The numeric work of a forward pass. Activations are float arrays holding rows of a batch one after another; weights
 * are {@link Weight} handles on the mapped file, which an implementation may read in their stored (quantized) form.
 */
public interface Kernels extends AutoCloseable {

    /**
     * For each of {@code batch} input rows {@code x[xOffset + b*xStride ..][0..w.cols)}, writes
     * {@code out[outOffset + b*outStride + r] = dot(row r of w, input row)} for every row {@code r} of {@code w}.
     */
    void matmul(Weight w, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int batch);

    /**
     * {@code groups} matmuls of weights with the same type and shape as one parallel step: matmul g multiplies
     * {@code weights[g]} with the rows at {@code x[xOffset + g*xGroupStride + b*xStride]} and writes
     * {@code out[outOffset + g*outGroupStride + b*outStride + r]}. An {@code xGroupStride} of 0 shares one input (the
     * gate and up projections of several experts); otherwise each group has its own (the heads of attn_k_b).
     */
    void matmuls(Weight[] weights, int groups, float[] x, int xOffset, int xGroupStride, int xStride,
                 float[] out, int outOffset, int outGroupStride, int outStride, int batch);

    /**
     * {@code groups} matmuls of weights with the same type and shape as one parallel step, each over its own run of
     * rows (the experts of a prompt, each on the tokens routed to it): {@code x} holds {@code inputs} rows of
     * {@code cols} floats one after another, and matmul g multiplies {@code weights[g]} with the {@code tokens[g]} rows
     * from row {@code firstInput[g]}, writing token b's results as row {@code firstOutput[g] + b} of {@code out}, whose
     * rows are {@code rows} long. Runs may overlap: the gate and up projections of an expert read the same tokens.
     */
    void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                       float[] out, int[] firstOutput);

    /** {@link #matmul(Weight, float[], int, int, float[], int, int, int)} on densely packed rows. */
    default void matmul(Weight w, float[] x, float[] out, int batch) {
        matmul(w, x, 0, w.cols(), out, 0, w.rows(), batch);
    }

    /** Decodes row {@code row} of {@code w} into {@code dst[dstOffset..dstOffset + w.cols())}. */
    void row(Weight w, int row, float[] dst, int dstOffset);

    /** The dot product of {@code a[aOffset..aOffset+n)} and {@code b[bOffset..bOffset+n)}. */
    float dot(float[] a, int aOffset, float[] b, int bOffset, int n);

    /** {@code y[yOffset + i] += alpha * x[xOffset + i]} for {@code i < n}. */
    void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n);

    /** Runs {@code task} for every index in {@code [0, count)}, possibly in parallel; returns when all are done. */
    void parallelFor(int count, IntConsumer task);

    @Override
    void close();
}
