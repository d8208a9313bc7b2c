package glmj.kernel;

import glmj.tensor.GGMLType;

import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Kernels that pass every call on to others: the base of a decorator that watches or changes some of them. Attention,
 * the indexer and the experts are built on the decorator itself (the interface's defaults), so their matmuls pass
 * through it too.
 */
public abstract class ForwardingKernels implements Kernels {
    protected final Kernels kernels;

    protected ForwardingKernels(Kernels kernels) {
        this.kernels = kernels;
    }

    @Override
    public boolean multiplies(GGMLType type) {
        return kernels.multiplies(type);
    }

    @Override
    public void matmul(Weight w, float[] x, float[] out, int batch) {
        kernels.matmul(w, x, out, batch);
    }

    @Override
    public void matmuls(Weight[] weights, Rows x, Rows out, int batch) {
        kernels.matmuls(weights, x, out, batch);
    }

    @Override
    public void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                              float[] out, int[] firstOutput) {
        kernels.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);
    }

    @Override
    public void row(Weight w, int row, float[] dst, int dstOffset) {
        kernels.row(w, row, dst, dstOffset);
    }

    @Override
    public void swiGlu(float[] a, int n, int upOffset) {
        kernels.swiGlu(a, n, upOffset);
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        kernels.parallelFor(count, task);
    }

    @Override
    public void cancelWhen(BooleanSupplier condition) {
        kernels.cancelWhen(condition);
    }

    @Override
    public boolean watchesEveryMatmul() {
        return kernels.watchesEveryMatmul();
    }

    @Override
    public void close() {
        kernels.close();
    }
}
