package glmj.kernel;

import glmj.tensor.GGMLType;

import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * The numeric work of a forward pass, and how it is scheduled: the model says what to compute, an implementation
 * decides how (which kernel, how the work is split among threads). Activations are float arrays holding rows of a
 * batch one after another; weights are {@link Weight} handles on the mapped file, which an implementation may read in
 * their stored (quantized) form. Every matmul names its weight, so a decorator sees each weight's input rows.
 */
public interface Kernels extends AutoCloseable {

    /** Whether these kernels multiply weights of {@code type}. */
    boolean multiplies(GGMLType type);

    /** For each of {@code batch} rows of {@code x} (densely packed), the products with every row of {@code w} into {@code out}'s rows. */
    void matmul(Weight w, float[] x, float[] out, int batch);

    /**
     * {@code weights.length} matmuls of weights with the same type and shape as one parallel step: matmul g multiplies
     * {@code weights[g]} with the rows {@code x} places in its group g and writes its results where {@code out} places
     * group g's rows (row r of the weight at column r). A group stride of 0 in {@code x} shares one input (the gate and
     * up projections of an FFN); otherwise each group has its own (the heads of attn_k_b).
     */
    void matmuls(Weight[] weights, Rows x, Rows out, int batch);

    /**
     * {@code groups} matmuls of weights with the same type and shape as one parallel step, each over its own run of
     * rows (the experts of a prompt, each on the tokens routed to it): {@code x} holds {@code inputs} rows of
     * {@code cols} floats one after another, and matmul g multiplies {@code weights[g]} with the {@code tokens[g]} rows
     * from row {@code firstInput[g]}, writing token b's results as row {@code firstOutput[g] + b} of {@code out}, whose
     * rows are {@code rows} long. Runs may overlap: the gate and up projections of an expert read the same tokens.
     */
    void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                       float[] out, int[] firstOutput);

    /** Decodes row {@code row} of {@code w} into {@code dst[dstOffset..dstOffset + w.cols())}. */
    void row(Weight w, int row, float[] dst, int dstOffset);

    /** SwiGLU in place: {@code a[i] = silu(a[i]) * a[upOffset + i]} for {@code i < n}. */
    void swiGlu(float[] a, int n, int upOffset);

    /** Runs {@code task} for every index in {@code [0, count)}, possibly in parallel; returns when all are done. */
    void parallelFor(int count, IntConsumer task);

    /**
     * From now on every parallel step asks {@code condition} before it starts and before each of its tasks (a grouped
     * matmul before each group too) and ends in a {@link java.util.concurrent.CancellationException} when it holds, so
     * a cancelled forward pass stops within the work under way, not at the end of a layer; a forward pass sets it.
     */
    void cancelWhen(BooleanSupplier condition);

    /**
     * Whether the model must run every matmul, even one whose result it can tell it does not need: true for a
     * decorator that collects each weight's inputs (llama-imatrix's statistics cover every weight llama.cpp's graph
     * multiplies).
     */
    default boolean watchesEveryMatmul() {
        return false;
    }

    /** MLA attention of a model of {@code shape}, on these kernels. */
    default MlaAttention attention(MlaAttention.Shape shape) {
        return new MlaAttention(shape, this);
    }

    /** The lightning indexer's scoring and top-k, for batches of up to {@code maxTokens} over caches of {@code capacity}. */
    default LightningIndexer indexer(LightningIndexer.Shape shape, int maxTokens, int capacity) {
        return new LightningIndexer(shape, maxTokens, capacity, this);
    }

    /** The routed experts of a mixture of experts (see {@link RoutedExperts}), on these kernels. */
    default RoutedExperts experts(int experts, int maxUsed, int embedding, int maxFeedForward, int maxTokens) {
        return new RoutedExperts(experts, maxUsed, embedding, maxFeedForward, maxTokens, this);
    }

    @Override
    void close();
}
