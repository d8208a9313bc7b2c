package glmj.quant.imatrix;

import glmj.gguf.TensorSource;
import glmj.kernel.ForwardingKernels;
import glmj.kernel.Kernels;
import glmj.kernel.Rows;
import glmj.kernel.Weight;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Kernels that collect an importance matrix while they compute, as llama-imatrix's eval callback collects one
 * ({@code tools/imatrix/imatrix.cpp}): for every matmul with a weight of the blocks ({@code blk.*}; the output head
 * too when asked), the sum of squares of each input column, in f32, row after row, and how many rows were summed.
 * A weight with several matrices (attn_k_b's and attn_v_b's heads) has a slice of sums per matrix and one count, as
 * a {@code mul_mat} of a 3-d weight does; the routed experts ({@link #raggedMatmuls}, llama.cpp's {@code mul_mat_id})
 * have a slice and a count per expert, experts no token chose keeping 0. Every call then goes to the kernels it wraps.
 * One forward pass at a time, on the thread that drives it.
 */
public final class ImportanceCollector extends ForwardingKernels {
    private static final String OUTPUT_HEAD = "output.weight";

    /** A weight's sums and counts, as llama-imatrix's {@code Stats}. */
    private record Stats(float[] sums, long[] counts) {
    }

    private final TensorSource model;
    private final boolean outputHead;
    private final Map<String, Stats> stats = new HashMap<>();

    /**
     * Collects around {@code kernels} for the weights of {@code model}, the output head's input only with
     * {@code outputHead} (llama-imatrix's {@code --process-output}).
     */
    public ImportanceCollector(Kernels kernels, TensorSource model, boolean outputHead) {
        super(kernels);
        this.model = model;
        this.outputHead = outputHead;
    }

    /**
     * What was collected, as llama-imatrix saves it: raw sums and counts, {@code datasets}, chunks of
     * {@code chunkSize} tokens, and as chunk count the largest count over the chunk size.
     */
    public ImportanceMatrix matrix(List<String> datasets, int chunkSize) {
        SortedMap<String, ImportanceMatrix.Entry> entries = new TreeMap<>();
        long largest = 0;
        for (var e : stats.entrySet()) {
            entries.put(e.getKey(), new ImportanceMatrix.Entry(e.getValue().sums().clone(), e.getValue().counts().clone()));
            for (long count : e.getValue().counts()) {
                largest = Math.max(largest, count);
            }
        }
        return new ImportanceMatrix(ImportanceMatrix.Form.GGUF, entries, datasets, (int) (largest / chunkSize), chunkSize);
    }

    /** Whether the weight named {@code name} (a whole tensor's name) is collected. */
    private boolean collects(String name) {
        return name.startsWith("blk.") || (outputHead && name.equals(OUTPUT_HEAD));
    }

    /** The tensor a weight's name is (a slice's {@code name[i]} is matrix i of {@code name}). */
    private static String tensorOf(Weight w) {
        int bracket = w.name().indexOf('[');
        return bracket < 0 ? w.name() : w.name().substring(0, bracket);
    }

    private static int matrixOf(Weight w) {
        int bracket = w.name().indexOf('[');
        return bracket < 0 ? 0 : Integer.parseInt(w.name(), bracket + 1, w.name().length() - 1, 10);
    }

    /** The stats of {@code tensor}, made on first use: a slice of sums per matrix, a count per matrix or one. */
    private Stats stats(String tensor, int columns, boolean countPerMatrix) {
        return stats.computeIfAbsent(tensor, name -> {
            int matrices = model.findTensor(name).map(t -> (int) t.dim(2)).orElse(1);
            return new Stats(new float[columns * matrices], new long[countPerMatrix ? matrices : 1]);
        });
    }

    /** Adds the squares of {@code rows} rows of {@code columns} values, {@code stride} apart from {@code offset}, to slice {@code matrix}. */
    private static void accumulate(Stats s, String tensor, int matrix, int columns, float[] x, int offset, int stride, int rows) {
        float[] sums = s.sums();
        int at = matrix * columns;
        for (int r = 0; r < rows; r++) {
            int row = offset + r * stride;
            for (int j = 0; j < columns; j++) {
                float v = x[row + j];
                sums[at + j] += v * v;
            }
        }
        for (int j = 0; j < columns; j++) {
            if (!Float.isFinite(sums[at + j])) {
                throw new glmj.quant.QuantizeException("non-finite values in the inputs of " + tensor + ": the model's weights are broken");
            }
        }
    }

    @Override
    public void matmul(Weight w, float[] x, float[] out, int batch) {
        String tensor = tensorOf(w);
        if (collects(tensor)) {
            Stats s = stats(tensor, w.cols(), false);
            accumulate(s, tensor, matrixOf(w), w.cols(), x, 0, w.cols(), batch);
            s.counts()[0] += batch;
        }
        kernels.matmul(w, x, out, batch);
    }

    @Override
    public void matmuls(Weight[] weights, Rows x, Rows out, int batch) {
        Map<String, Stats> counted = new HashMap<>(2);
        for (int g = 0; g < weights.length; g++) {
            String tensor = tensorOf(weights[g]);
            if (collects(tensor)) {
                Stats s = stats(tensor, weights[g].cols(), false);
                accumulate(s, tensor, matrixOf(weights[g]), weights[g].cols(), x.data(), x.offset() + g * x.groupStride(),
                        x.stride(), batch);
                counted.put(tensor, s);
            }
        }
        counted.values().forEach(s -> s.counts()[0] += batch);
        kernels.matmuls(weights, x, out, batch);
    }

    @Override
    public void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                              float[] out, int[] firstOutput) {
        for (int g = 0; g < groups; g++) {
            String tensor = tensorOf(weights[g]);
            if (collects(tensor)) {
                int columns = weights[g].cols();
                int matrix = matrixOf(weights[g]);
                Stats s = stats(tensor, columns, true);
                accumulate(s, tensor, matrix, columns, x, firstInput[g] * columns, columns, tokens[g]);
                s.counts()[matrix] += tokens[g];
            }
        }
        kernels.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);
    }

    /** Every weight's inputs are collected, as llama.cpp's graph multiplies them all. */
    @Override
    public boolean watchesEveryMatmul() {
        return true;
    }
}
