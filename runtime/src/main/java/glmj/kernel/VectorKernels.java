package glmj.kernel;

import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;

import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;


/**
 * The Panama Vector API kernels: weights are read in their stored form straight from the mapped file by the
 * {@link DotKernel} of their type, against activations converted once per matmul ({@link Activations}). A matmul
 * splits the weight rows into a few contiguous ranges per thread of a fixed {@link WorkerPool} ({@link MatmulStep}), so
 * each thread streams its own rows; a batch of tokens is taken a few at a time so each weight row is read once per tile
 * from cache. A prompt's quantized and block-scaled weights are decoded once into {@link Panels}, unless the kernels are
 * made without them: then every product rounds as the dot kernels (ggml's {@code vec_dot}) do. Block-scaled weights
 * (FP8) are multiplied as rows decoded with their scales, in {@link FloatDots#f32}'s order. Nothing is allocated per
 * call once the buffers have grown to the largest batch. Not thread-safe: one forward pass at a time.
 */
public final class VectorKernels implements Kernels {
    /** Tokens dotted with each weight row while it is in cache. */
    private static final int TOKEN_TILE = 8;
    /** Input rows from which converting them is worth a parallel step of its own. */
    private static final int PARALLEL_INPUTS = 4;

    private final WorkerPool pool;
    /** Whether prompts of quantized and block-scaled weights take decoded panels. */
    private final boolean promptPanels;
    private final Activations activations = new Activations();
    private final IntConsumer matmulRange = this::matmulRange;
    private final IntConsumer convertRange = this::convertRange;
    private final MatmulStep.Rows multiplyRows = this::multiplyRows;

    private final Weight[] single = new Weight[1];
    /** Activations a task of {@link #swiGlu} computes: a decode step's experts are one task, a prompt's many. */
    private static final int SWIGLU_CHUNK = 1 << 14;
    private final IntConsumer swiGluChunk = this::swiGluChunk;
    private float[] swiGluValues;
    private int swiGluLength;
    private int swiGluUps;

    /** The matmuls in flight, read by every thread of the step. */
    private final MatmulStep step = new MatmulStep();
    private DotKernel kernel;
    /** Whether this step's weights are block-scaled: multiplied as rows decoded to f32, by the f32 dot kernel. */
    private boolean scaled;
    private int ranges;
    /** Whether this step multiplies decoded panels ({@link Panels}) rather than dotting each row with each token. */
    private boolean panels;
    /** Each thread's decoded weights. */
    private final ThreadLocal<Decoded> decoded = ThreadLocal.withInitial(Decoded::new);

    /** A thread's panel and single decoded row, grown to the widest rows seen. */
    private static final class Decoded {
        float[] panel = new float[0];
        float[] row = new float[0];
        /** {@link #row} as a segment, for dotting a decoded row as the f32 dot kernel dots a mapped one. */
        MemorySegment rowSegment = MemorySegment.ofArray(row);

        float[] panel(int cols) {
            if (panel.length < Panels.ROWS * cols) {
                panel = new float[Panels.ROWS * cols];
            }
            return panel;
        }

        float[] row(int cols) {
            if (row.length < cols) {
                row = new float[cols];
                rowSegment = MemorySegment.ofArray(row);
            }
            return row;
        }
    }

    /** Kernels on {@code threads} threads (the caller's included) whose prompts take decoded panels. */
    public VectorKernels(int threads) {
        this(threads, true);
    }

    /**
     * Kernels on {@code threads} threads; without {@code promptPanels} every weight row is dotted with every token by
     * its type's dot kernel, rounding exactly as ggml's {@code vec_dot} does, and prompts run slower.
     */
    public VectorKernels(int threads, boolean promptPanels) {
        this.pool = new WorkerPool(threads);
        this.promptPanels = promptPanels;
    }

    /**
     * Whether decoded panels multiply a K-quant batch faster than ggml's loops of integer {@code vec_dot}: only with
     * vectors of 256 bits or more; with 128-bit ones an FMA is four products against ggml's dot-product instructions'
     * sixteen (docs/performance.md).
     */
    public static final boolean PANELS_BEAT_GGML_LOOPS = Lanes.F.length() >= 8;

    /**
     * Whether a matmul of {@code batch} tokens with weights of {@code type} decodes the weights once into panels of
     * floats with vector code (the prompt path, see {@link Panels}) rather than dotting each token with the stored
     * blocks.
     */
    public static boolean decodesPanels(GGMLType type, int batch) {
        return type.decodesRowsInVectors() && Panels.pay(type, batch);
    }

    /** Threads a parallel step runs on, the caller's included. */
    public int threads() {
        return pool.threads();
    }

    @Override
    public boolean multiplies(GGMLType type) {
        return type.isVectorMultiplied();
    }

    @Override
    public void matmul(Weight w, float[] x, float[] out, int batch) {
        single[0] = w;
        run(step.set(single, 1, x, 0, 0, w.cols(), out, 0, 0, w.rows(), batch));
    }

    @Override
    public void matmuls(Weight[] weights, Rows x, Rows out, int batch) {
        run(step.set(weights, weights.length, x.data(), x.offset(), x.groupStride(), x.stride(), out.data(), out.offset(),
                out.groupStride(), out.stride(), batch));
    }

    @Override
    public void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                              float[] out, int[] firstOutput) {
        run(step.setRagged(weights, groups, x, inputs, firstInput, tokens, out, firstOutput));
    }

    /** The {@link #step} just set, whose weights are all like {@code first}. */
    private void run(Weight first) {
        GGMLType type = first.type();
        if (!type.isVectorMultiplied()) {
            throw new IllegalArgumentException("no dot kernel for weights of type " + type.ggmlName);
        }
        this.scaled = type.isBlockScaled();
        this.kernel = scaled ? FloatDots::f32 : type.dotKernel();
        this.panels = promptPanels && Panels.pay(type, step.batch());

        int inputs = step.inputs();
        activations.prepare(type.vecDotType(), inputs, first.cols(), panels);
        this.ranges = Math.min(pool.threads(), inputs);
        if (inputs >= PARALLEL_INPUTS) {
            pool.run(ranges, convertRange);
        } else {
            convertRange(0, 1);
        }

        this.ranges = step.ranges(pool.threads());
        pool.run(ranges, matmulRange);
    }

    private void convertRange(int range) {
        convertRange(range, ranges);
    }

    /** Input rows {@code [n*range/ranges, n*(range+1)/ranges)} of the step into {@link #activations}. */
    private void convertRange(int range, int ranges) {
        int inputs = step.inputs();
        for (int i = inputs * range / ranges; i < inputs * (range + 1) / ranges; i++) {
            activations.convertRow(step.x(), step.inputOffset(i), i);
        }
    }

    /** One thread's share of the step: a contiguous range of all the groups' rows. */
    private void matmulRange(int range) {
        step.rangeRows(range, ranges, multiplyRows);
    }

    private void multiplyRows(int range, int g, int from, int to) {
        if (panels && Panels.pay(step.weight(g).type(), step.tokens(g))) {
            from = panelRows(g, from, to, decoded.get());
        }
        dotRows(g, from, to);
    }

    /**
     * Rows {@code [from, to)} of group {@code g}, a few tokens at a time so each row is read once per tile from cache. A
     * block-scaled row is decoded with its scales into the thread's decoded row once per tile and dotted by the f32 dot
     * kernel, so each product and sum is the one its f32 dequantization would give.
     */
    private void dotRows(int g, int from, int to) {
        Weight w = step.weight(g);
        Decoded scratch = scaled ? decoded.get() : null;
        float[] row = scaled ? scratch.row(w.cols()) : null;
        MemorySegment data = scaled ? scratch.rowSegment : w.data();
        long rowBytes = scaled ? 0 : w.rowBytes();
        int batch = step.tokens(g);
        int activationRow = step.firstInput(g);
        int at = step.outputOffset(g);
        int outStride = step.outStride();
        float[] out = step.out();
        for (int tile = 0; tile < batch; tile += TOKEN_TILE) {
            int tileEnd = Math.min(batch, tile + TOKEN_TILE);
            for (int r = from; r < to; r++) {
                if (scaled) {
                    decode(w, r, row, 0);
                }
                long offset = r * rowBytes;
                for (int b = tile; b < tileEnd; b++) {
                    out[at + r + b * outStride] = kernel.dot(data, offset, activations, activationRow + b);
                }
            }
        }
    }

    /**
     * The whole {@link Panels#ROWS}-row panels of rows {@code [from, to)} of group {@code g}, each row decoded into the
     * thread's {@code scratch} row and put in its panel; returns the first row left for {@link #dotRows}.
     */
    private int panelRows(int g, int from, int to, Decoded scratch) {
        Weight w = step.weight(g);
        int cols = w.cols();
        float[] row = scratch.row(cols);
        float[] panel = scratch.panel(cols);
        int at = step.outputOffset(g);
        int r = from;
        for (; r + Panels.ROWS <= to; r += Panels.ROWS) {
            for (int k = 0; k < Panels.ROWS; k++) {
                decode(w, r + k, row, 0);
                Panels.put(row, cols, panel, k);
            }
            Panels.multiply(panel, cols, activations.panelValues(), step.firstInput(g), step.tokens(g), step.out(), at + r,
                    step.outStride());
        }
        return r;
    }

    /** Row {@code r} of {@code w} decoded to f32 into {@code dst[at..]}, with its block scales if it has them. */
    private static void decode(Weight w, int r, float[] dst, int at) {
        if (w.scales() != null) {
            w.type().scaledRowDecoder().decode(w.data(), r * w.rowBytes(), w.scales(), r, dst, at, w.cols());
        } else {
            w.type().rowDecoder().decode(w.data(), r * w.rowBytes(), dst, at, w.cols());
        }
    }

    @Override
    public void row(Weight w, int row, float[] dst, int dstOffset) {
        if (row < 0 || row >= w.rows()) {
            throw new IllegalArgumentException("row " + row + " of " + w.name() + " which has " + w.rows() + " rows");
        }
        decode(w, row, dst, dstOffset);
    }

    @Override
    public void swiGlu(float[] a, int n, int upOffset) {
        swiGluValues = a;
        swiGluLength = n;
        swiGluUps = upOffset;
        pool.run((n + SWIGLU_CHUNK - 1) / SWIGLU_CHUNK, swiGluChunk);
    }

    private void swiGluChunk(int chunk) {
        float[] a = swiGluValues;
        int n = swiGluLength, ups = swiGluUps;
        for (int i = chunk * SWIGLU_CHUNK, end = Math.min(n, i + SWIGLU_CHUNK); i < end; i++) {
            float g = a[i];
            a[i] = Exponentials.silu(g) * a[ups + i];
        }
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        pool.run(count, task);
    }

    @Override
    public void cancelWhen(BooleanSupplier condition) {
        pool.cancelWhen(condition);
        step.cancelWhen(condition);
    }

    @Override
    public void close() {
        pool.close();
    }
}
