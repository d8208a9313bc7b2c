package glmj.kernel;

import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * The matmuls of one parallel step as {@link Kernels#matmuls} or {@link Kernels#raggedMatmuls} describes them, held for
 * every thread of the step to read, and the split of their rows into ranges: what every kernel backend needs before
 * its own kernels take over. Set again for each step; not thread-safe while being set. A range asks
 * {@link #cancelWhen}'s condition before each group after its first, so that a cancelled step of many groups (a
 * prompt's experts) stops within the groups under way.
 */
public final class MatmulStep {

    /** Rows {@code [from, to)} of group {@code g}, within range {@code range} of the step. */
    @FunctionalInterface
    public interface Rows {
        void multiply(int range, int g, int from, int to);
    }

    /**
     * Row ranges per thread, handed out as threads come free: a thread that starts late (woken from parking) or runs
     * slower (a busy core) takes fewer of them instead of holding up the step.
     */
    private static final int RANGES_PER_THREAD = 4;
    /**
     * Ranges per thread of a batch's step, which runs long enough that its last range, which one thread finishes while
     * the others wait, costs more than handing out finer ranges does.
     */
    private static final int BATCH_RANGES_PER_THREAD = 16;
    /**
     * Ranges begin on a multiple of this many rows within a group: whole panels of {@link Panels#ROWS} and of ggml's
     * prompt kernels ({@link GgmlPrompt#rows}), so a row's kernel does not depend on the split.
     */
    public static final int ROW_ALIGNMENT = rowAlignment();

    private static int rowAlignment() {
        int alignment = Panels.ROWS;
        for (GgmlPrompt kernel : GgmlPrompt.values()) {
            while (alignment % kernel.rows != 0) {
                alignment += Panels.ROWS;
            }
        }
        return alignment;
    }

    private Weight[] weights;
    private int groups;
    /** Whether each group has its own run of the input rows and of the output rows ({@link Kernels#raggedMatmuls}). */
    private boolean ragged;
    private boolean sharedInput;
    private float[] x;
    private int xOffset;
    private int xGroupStride;
    private int xStride;
    private float[] out;
    private int outOffset;
    private int outGroupStride;
    private int outStride;
    private int batch;
    private int inputs;
    private int[] firstInput;
    private int[] tokens;
    private int[] firstOutput;
    /** Before group g: the products of a weight row and a token. */
    private long[] productsBefore = new long[1];
    private volatile BooleanSupplier cancelled = () -> false;

    /** From now on each range asks {@code condition} before each group after its first, and stops when it says so. */
    public void cancelWhen(BooleanSupplier condition) {
        cancelled = condition;
    }

    /** Takes over the arguments of {@link Kernels#matmuls}; returns the first weight, whose type and shape all share. */
    public Weight set(Weight[] weights, int groups, float[] x, int xOffset, int xGroupStride, int xStride,
                      float[] out, int outOffset, int outGroupStride, int outStride, int batch) {
        Weight first = check(weights, groups);
        this.ragged = false;
        this.sharedInput = xGroupStride == 0;
        this.x = x;
        this.xOffset = xOffset;
        this.xGroupStride = xGroupStride;
        this.xStride = xStride;
        this.out = out;
        this.outOffset = outOffset;
        this.outGroupStride = outGroupStride;
        this.outStride = outStride;
        this.batch = batch;
        this.inputs = sharedInput ? batch : groups * batch;
        weigh();
        return first;
    }

    /** Takes over the arguments of {@link Kernels#raggedMatmuls}; returns the first weight, whose type and shape all share. */
    public Weight setRagged(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                            float[] out, int[] firstOutput) {
        Weight first = check(weights, groups);
        this.ragged = true;
        this.x = x;
        this.xOffset = 0;
        this.xStride = first.cols();
        this.out = out;
        this.outOffset = 0;
        this.outStride = first.rows();
        this.inputs = inputs;
        this.firstInput = firstInput;
        this.tokens = tokens;
        this.firstOutput = firstOutput;
        int most = 0;
        for (int g = 0; g < groups; g++) {
            if (tokens[g] < 1 || firstInput[g] < 0 || firstInput[g] + tokens[g] > inputs) {
                throw new IllegalArgumentException("group " + g + " of a ragged matmul reads input rows " + firstInput[g] + " + "
                        + tokens[g] + ", outside the " + inputs + " given");
            }
            most = Math.max(most, tokens[g]);
        }
        this.batch = most;
        weigh();
        return first;
    }

    private Weight check(Weight[] weights, int groups) {
        Weight first = weights[0];
        for (int g = 1; g < groups; g++) {
            if (weights[g].type() != first.type() || weights[g].rows() != first.rows() || weights[g].cols() != first.cols()) {
                throw new IllegalArgumentException("grouped matmul of " + weights[g].name() + " and " + first.name()
                        + ", which differ in type or shape");
            }
        }
        this.weights = weights;
        this.groups = groups;
        return first;
    }

    private void weigh() {
        if (productsBefore.length <= groups) {
            productsBefore = new long[groups + 1];
        }
        long rows = weights[0].rows();
        for (int g = 0; g < groups; g++) {
            productsBefore[g + 1] = productsBefore[g] + rows * tokens(g);
        }
    }

    public int groups() {
        return groups;
    }

    public Weight weight(int g) {
        return weights[g];
    }

    /** The most tokens any group multiplies: the batch, unless the step is ragged. */
    public int batch() {
        return batch;
    }

    /** The tokens group {@code g} multiplies. */
    public int tokens(int g) {
        return ragged ? tokens[g] : batch;
    }

    /** Distinct input rows: the batch once when the groups share it, else once per group; or as many as given. */
    public int inputs() {
        return inputs;
    }

    /** The input rows' array. */
    public float[] x() {
        return x;
    }

    /** Where input row {@code i} (of {@link #inputs()}) starts in {@link #x()}. */
    public int inputOffset(int i) {
        if (ragged || sharedInput) {
            return xOffset + i * xStride;
        }
        int g = i / batch;
        return xOffset + g * xGroupStride + (i - g * batch) * xStride;
    }

    /** The input row (of {@link #inputs()}) that token 0 of group {@code g} reads; token b reads the b-th after it. */
    public int firstInput(int g) {
        return ragged ? firstInput[g] : sharedInput ? 0 : g * batch;
    }

    /** The results' array. */
    public float[] out() {
        return out;
    }

    /** Where group {@code g}'s result for token 0 starts in {@link #out()}: row r at {@code + r}, token b at {@code + b * outStride()}. */
    public int outputOffset(int g) {
        return ragged ? firstOutput[g] * outStride : outOffset + g * outGroupStride;
    }

    public int outStride() {
        return outStride;
    }

    /** How many ranges {@link #rangeRows} splits the step into on {@code threads} threads. */
    public int ranges(int threads) {
        return (int) Math.min((long) (batch > 1 ? BATCH_RANGES_PER_THREAD : RANGES_PER_THREAD) * threads, totalRows());
    }

    /** The most ranges of any step on {@code threads} threads. */
    public static int mostRanges(int threads) {
        return Math.max(RANGES_PER_THREAD, BATCH_RANGES_PER_THREAD) * threads;
    }

    /** Rows of all the groups together. */
    public long totalRows() {
        return (long) groups * weights[0].rows();
    }

    /** The cost of the groups before group {@code g}, weighing each row at one read plus one product per token. */
    private long costBefore(int g) {
        return productsBefore[g] + (long) g * weights[0].rows();
    }

    /** The products of a weight row and a token that the groups before group {@code g} form: where g's results begin in one dense run of all of them. */
    public long productsBefore(int g) {
        return productsBefore[g];
    }

    /**
     * Range {@code range} of {@code ranges}: a contiguous share of all the groups' rows, of about equal cost when the
     * groups' token counts differ, handed to {@code rows} group after group, so no row needs a division to find its
     * group.
     *
     * @throws CancellationException when {@link #cancelWhen}'s condition holds before a group after the first
     */
    public void rangeRows(int range, int ranges, Rows rows) {
        int perGroup = weights[0].rows();
        long first = boundary(range, ranges);
        long end = boundary(range + 1, ranges);
        int firstGroup = (int) (first / perGroup);
        for (int g = firstGroup; g < groups && (long) g * perGroup < end; g++) {
            if (g > firstGroup && cancelled.getAsBoolean()) {
                throw new CancellationException("cancelled before group " + g + " of " + groups);
            }
            int from = (int) Math.max(0, first - (long) g * perGroup);
            int to = (int) Math.min(perGroup, end - (long) g * perGroup);
            if (from < to) {
                rows.multiply(range, g, from, to);
            }
        }
    }

    /**
     * The row, counted across all the groups, where range {@code range} of {@code ranges} begins: on a multiple of
     * {@link #ROW_ALIGNMENT} within its group.
     */
    private long boundary(int range, int ranges) {
        long total = costBefore(groups);
        long cost = total * range / ranges;
        if (cost >= total) {
            return totalRows();
        }
        int g = 0;
        while (costBefore(g + 1) <= cost) {
            g++;
        }
        int perGroup = weights[0].rows();
        long rowCost = 1 + tokens(g);
        long row = (cost - costBefore(g) + rowCost - 1) / rowCost;
        return (long) g * perGroup + Math.min(perGroup, (row + ROW_ALIGNMENT - 1) / ROW_ALIGNMENT * ROW_ALIGNMENT);
    }
}
