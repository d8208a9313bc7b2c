package glmj.kernel;

/**
 * The matmuls of one parallel step as {@link Kernels#matmuls} describes them, held for every thread of the step to
 * read, and the split of their rows into ranges: what every kernel backend needs before its own kernels take over.
 * Set again for each step; not thread-safe while being set.
 */
public final class MatmulStep {

    /** Rows {@code [from, to)} of group {@code g}, within range {@code range} of the step. */
    @FunctionalInterface
    public interface Rows {
        void multiply(int range, int g, int from, int to);
    }

    private Weight[] weights;
    private int groups;
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

    /** Takes over the arguments of {@link Kernels#matmuls}; returns the first weight, whose type and shape all share. */
    public Weight set(Weight[] weights, int groups, float[] x, int xOffset, int xGroupStride, int xStride,
                      float[] out, int outOffset, int outGroupStride, int outStride, int batch) {
        Weight first = weights[0];
        for (int g = 1; g < groups; g++) {
            if (weights[g].type() != first.type() || weights[g].rows() != first.rows() || weights[g].cols() != first.cols()) {
                throw new IllegalArgumentException("grouped matmul of " + weights[g].name() + " and " + first.name()
                        + ", which differ in type or shape");
            }
        }
        this.weights = weights;
        this.groups = groups;
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
        return first;
    }

    public Weight weight(int g) {
        return weights[g];
    }

    public int batch() {
        return batch;
    }

    /** Distinct input rows: the batch once when the groups share it, else once per group. */
    public int inputs() {
        return sharedInput ? batch : groups * batch;
    }

    /** The input rows' array. */
    public float[] x() {
        return x;
    }

    /** Where input row {@code i} (of {@link #inputs()}) starts in {@link #x()}. */
    public int inputOffset(int i) {
        int g = i / batch;
        return xOffset + g * xGroupStride + (i - g * batch) * xStride;
    }

    /** The input row (of {@link #inputs()}) that token 0 of group {@code g} reads; token b reads the b-th after it. */
    public int firstInput(int g) {
        return sharedInput ? 0 : g * batch;
    }

    /** The results' array. */
    public float[] out() {
        return out;
    }

    /** Where group {@code g}'s result for token 0 starts in {@link #out()}: row r at {@code + r}, token b at {@code + b * outStride()}. */
    public int outputOffset(int g) {
        return outOffset + g * outGroupStride;
    }

    public int outStride() {
        return outStride;
    }

    /** Rows of all the groups together. */
    public long totalRows() {
        return (long) groups * weights[0].rows();
    }

    /**
     * Range {@code range} of {@code ranges}: a contiguous share of all the groups' rows, handed to {@code rows} group
     * after group, so no row needs a division to find its group.
     */
    public void rangeRows(int range, int ranges, Rows rows) {
        int perGroup = weights[0].rows();
        long total = totalRows();
        long first = total * range / ranges;
        long end = total * (range + 1) / ranges;
        for (int g = (int) (first / perGroup); g <= (int) ((end - 1) / perGroup); g++) {
            int from = (int) Math.max(0, first - (long) g * perGroup);
            int to = (int) Math.min(perGroup, end - (long) g * perGroup);
            rows.multiply(range, g, from, to);
        }
    }
}
