package glmj.kernel;

import jdk.incubator.vector.FloatVector;

import java.util.function.IntConsumer;

import static glmj.kernel.Lanes.F;

/**
 * The Panama Vector API kernels: weights are read in their stored form straight from the mapped file by the
 * {@link DotKernel} of their type, against activations converted once per matmul ({@link Activations}). A matmul
 * splits the weight rows into one contiguous range per thread of a fixed {@link WorkerPool}, so each thread streams its
 * own rows; a batch of tokens is taken a few at a time so each weight row is read once per tile from cache. Nothing
 * is allocated per call once the buffers have grown to the largest batch. Not thread-safe: one forward pass at a time.
 */
public final class VectorKernels implements Kernels {
    /** Tokens dotted with each weight row while it is in cache. */
    private static final int TOKEN_TILE = 8;

    private final WorkerPool pool;
    private final Activations activations = new Activations();
    private final IntConsumer matmulRange = this::matmulRange;

    /** The matmul in flight, read by every thread of the step. */
    private Weight weight;
    private DotKernel kernel;
    private float[] out;
    private int outOffset;
    private int outStride;
    private int batch;
    private int ranges;

    public VectorKernels(int threads) {
        this.pool = new WorkerPool(threads);
    }

    @Override
    public void matmul(Weight w, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int batch) {
        activations.convert(Activations.Format.forWeights(w.type()), x, xOffset, xStride, batch, w.cols());
        this.weight = w;
        this.kernel = DotKernel.of(w.type());
        this.out = out;
        this.outOffset = outOffset;
        this.outStride = outStride;
        this.batch = batch;
        this.ranges = Math.min(pool.threads(), w.rows());
        pool.run(ranges, matmulRange);
    }

    private void matmulRange(int range) {
        Weight w = weight;
        int first = (int) ((long) w.rows() * range / ranges);
        int end = (int) ((long) w.rows() * (range + 1) / ranges);
        long rowBytes = w.rowBytes();
        for (int tile = 0; tile < batch; tile += TOKEN_TILE) {
            int tileEnd = Math.min(batch, tile + TOKEN_TILE);
            for (int r = first; r < end; r++) {
                long offset = r * rowBytes;
                for (int b = tile; b < tileEnd; b++) {
                    out[outOffset + b * outStride + r] = kernel.dot(w.data(), offset, activations, b);
                }
            }
        }
    }

    @Override
    public void row(Weight w, int row, float[] dst, int dstOffset) {
        if (row < 0 || row >= w.rows()) {
            throw new IllegalArgumentException("row " + row + " of " + w.name() + " which has " + w.rows() + " rows");
        }
        w.type().dequantize(w.data(), row * w.rowBytes(), dst, dstOffset, w.cols());
    }

    /** In ggml_vec_dot_f32's order, as {@code FloatDots.f32}: llama.cpp's lightning indexer dots its keys so. */
    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int lanes = F.length();
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (; i + 4 * lanes <= n; i += 4 * lanes) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOffset + i + lanes).fma(FloatVector.fromArray(F, b, bOffset + i + lanes), acc1);
            acc2 = FloatVector.fromArray(F, a, aOffset + i + 2 * lanes).fma(FloatVector.fromArray(F, b, bOffset + i + 2 * lanes), acc2);
            acc3 = FloatVector.fromArray(F, a, aOffset + i + 3 * lanes).fma(FloatVector.fromArray(F, b, bOffset + i + 3 * lanes), acc3);
        }
        float sum = Lanes.sum(acc0.add(acc2).add(acc1.add(acc3)));
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
        int i = 0;
        for (int upper = F.loopBound(n); i < upper; i += F.length()) {
            FloatVector.fromArray(F, x, xOffset + i).fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOffset + i)).intoArray(y, yOffset + i);
        }
        for (; i < n; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        pool.run(count, task);
    }

    @Override
    public void close() {
        pool.close();
    }
}
