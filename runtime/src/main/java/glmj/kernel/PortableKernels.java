package glmj.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The reference implementation: decodes a weight row into a per-thread scratch row and takes plain float dot products
 * with it, the activations rounded first as ggml rounds them for that weight type ({@link ActivationRounding});
 * matmuls are split over output rows among a fixed number of threads. Not thread-safe: one forward pass at a time.
 */
public final class PortableKernels implements Kernels {
    private final ForkJoinPool pool;
    private final int threads;
    /** One decoded-row buffer per chunk of rows; a chunk runs on one thread at a time. */
    private final float[][] scratch;
    /** The batch's activations rounded as ggml rounds them for the weight type; grows to the largest batch seen. */
    private float[] rounded = new float[0];

    /**
     * @param threads worker threads
     * @param maxCols the longest weight row any matmul will see
     */
    public PortableKernels(int threads, int maxCols) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = new ForkJoinPool(threads);
        this.scratch = new float[threads][maxCols];
    }

    @Override
    public void matmul(Weight w, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int batch) {
        if (w.cols() > scratch[0].length) {
            throw new IllegalArgumentException("weight " + w.name() + " rows of " + w.cols() + " exceed the kernels' "
                    + scratch[0].length);
        }
        ActivationRounding rounding = ActivationRounding.forWeights(w.type());
        float[] input = x;
        int inputOffset = xOffset;
        int inputStride = xStride;
        if (rounding != ActivationRounding.NONE) {
            if (rounded.length < batch * w.cols()) {
                rounded = new float[batch * w.cols()];
            }
            for (int b = 0; b < batch; b++) {
                rounding.apply(x, xOffset + b * xStride, w.cols(), rounded, b * w.cols());
            }
            input = rounded;
            inputOffset = 0;
            inputStride = w.cols();
        }
        float[] in = input;
        int inOffset = inputOffset;
        int inStride = inputStride;
        int chunks = Math.min(threads, w.rows());
        int perChunk = (w.rows() + chunks - 1) / chunks;
        parallelFor(chunks, chunk -> {
            float[] row = scratch[chunk];
            int end = Math.min(w.rows(), (chunk + 1) * perChunk);
            long rowBytes = w.rowBytes();
            for (int r = chunk * perChunk; r < end; r++) {
                w.type().dequantize(w.data(), r * rowBytes, row, 0, w.cols());
                for (int b = 0; b < batch; b++) {
                    out[outOffset + b * outStride + r] = dot(row, 0, in, inOffset + b * inStride, w.cols());
                }
            }
        });
    }

    @Override
    public void row(Weight w, int row, float[] dst, int dstOffset) {
        if (row < 0 || row >= w.rows()) {
            throw new IllegalArgumentException("row " + row + " of " + w.name() + " which has " + w.rows() + " rows");
        }
        w.type().dequantize(w.data(), row * w.rowBytes(), dst, dstOffset, w.cols());
    }

    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[aOffset + i] * b[bOffset + i];
            s1 += a[aOffset + i + 1] * b[bOffset + i + 1];
            s2 += a[aOffset + i + 2] * b[bOffset + i + 2];
            s3 += a[aOffset + i + 3] * b[bOffset + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[aOffset + i] * b[bOffset + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
        for (int i = 0; i < n; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        if (count == 1 || threads == 1) {
            for (int i = 0; i < count; i++) {
                task.accept(i);
            }
            return;
        }
        pool.submit(() -> IntStream.range(0, count).parallel().forEach(task)).join();
    }

    @Override
    public void close() {
        pool.shutdown();
    }
}
