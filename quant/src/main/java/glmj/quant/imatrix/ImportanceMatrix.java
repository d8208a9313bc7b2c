package glmj.quant.imatrix;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An importance matrix as llama.cpp keeps one ({@code common_imatrix}): per weight tensor the sums of squared
 * activations of each input column ({@code in_sum2}) and how many activations were summed ({@code counts}), one
 * slice and count per matrix (per expert for a MoE tensor, whose rows of sums follow each other), with the datasets
 * it came from and its chunk count and size. It is in one of llama.cpp's two forms:
 * <ul>
 *   <li>{@link Form#GGUF}: raw sums and per-matrix counts, as {@code llama-imatrix} writes its GGUF files;</li>
 *   <li>{@link Form#LEGACY}: the {@code .dat} form, each sum already divided by its count and multiplied by a single
 *   call count {@code ncall}, held as the only count (its chunk size is unknown, 0).</li>
 * </ul>
 * {@link #importance} turns either into the per-column weights llama-quantize hands to the quantizers.
 */
public final class ImportanceMatrix {

    /** Which of llama.cpp's two representations the sums and counts are in. */
    public enum Form { GGUF, LEGACY }

    /**
     * One weight tensor's data: {@code sums.length / counts.length} columns for each of {@code counts.length}
     * matrices.
     */
    public record Entry(float[] sums, long[] counts) {
        public Entry {
            if (counts.length == 0 || sums.length == 0 || sums.length % counts.length != 0) {
                throw new IllegalArgumentException(sums.length + " sums do not divide into " + counts.length + " matrices");
            }
        }

        public int matrices() {
            return counts.length;
        }

        public int columns() {
            return sums.length / counts.length;
        }
    }

    private final Form form;
    private final SortedMap<String, Entry> entries;
    private final List<String> datasets;
    private final int chunkCount;
    private final int chunkSize;

    /**
     * A matrix of {@code entries} (by tensor name) in {@code form}, collected over {@code chunkCount} chunks of
     * {@code chunkSize} tokens (0 in the legacy form, which does not record it) from {@code datasets}.
     */
    public ImportanceMatrix(Form form, SortedMap<String, Entry> entries, List<String> datasets, int chunkCount, int chunkSize) {
        this.form = form;
        this.entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
        this.datasets = List.copyOf(datasets);
        this.chunkCount = chunkCount;
        this.chunkSize = chunkSize;
    }

    public Form form() {
        return form;
    }

    /** The entries by tensor name, in name order (the order llama-imatrix writes them). */
    public SortedMap<String, Entry> entries() {
        return entries;
    }

    public List<String> datasets() {
        return datasets;
    }

    public int chunkCount() {
        return chunkCount;
    }

    /** Tokens per chunk; 0 in the legacy form. */
    public int chunkSize() {
        return chunkSize;
    }

    /**
     * The importance llama-quantize gives the quantizer for {@code tensorName}, one float per column of each
     * matrix (matrix after matrix), or null when the matrix has no entry for it. In the GGUF form a sum is divided
     * by its matrix's count, and an expert that never fired (count 0) weighs every column 1, as llama-quantize does;
     * in the legacy form the sums are divided by {@code ncall} (taken as they are when it is not positive).
     *
     * @throws IllegalArgumentException when a value comes out infinite or NaN, which llama-quantize refuses too
     */
    public float[] importance(String tensorName) {
        Entry entry = entries.get(tensorName);
        if (entry == null) {
            return null;
        }
        float[] importance = new float[entry.sums().length];
        if (form == Form.GGUF) {
            int columns = entry.columns();
            for (int m = 0; m < entry.matrices(); m++) {
                float count = (float) entry.counts()[m];
                for (int i = 0; i < columns; i++) {
                    importance[m * columns + i] = count > 0 ? entry.sums()[m * columns + i] / count : 1;
                }
            }
        } else {
            long calls = entry.counts()[0];
            for (int i = 0; i < importance.length; i++) {
                importance[i] = calls > 0 ? entry.sums()[i] / calls : entry.sums()[i];
            }
        }
        for (float value : importance) {
            if (!Float.isFinite(value)) {
                throw new IllegalArgumentException("the importance matrix holds a non-finite value (" + value + ") for "
                        + tensorName);
            }
        }
        return importance;
    }

    /**
     * The importance of each of the {@code experts} matrices of a tensor whose rows have {@code columns} weights
     * ({@code importance(name)} cut into one array per expert), or null when the matrix has no entry for it.
     *
     * @throws IllegalArgumentException when the entry's size is not {@code columns * experts}, as llama-quantize
     *                                  refuses it
     */
    public float[][] importance(String tensorName, int columns, int experts) {
        float[] all = importance(tensorName);
        if (all == null) {
            return null;
        }
        if (all.length != (long) columns * experts) {
            throw new IllegalArgumentException("imatrix size " + all.length + " is different from tensor size "
                    + (long) columns * experts + " for " + tensorName);
        }
        float[][] perExpert = new float[experts][];
        for (int e = 0; e < experts; e++) {
            perExpert[e] = Arrays.copyOfRange(all, e * columns, (e + 1) * columns);
        }
        return perExpert;
    }

    /**
     * This matrix in the GGUF form. From the legacy form that is what {@code llama-imatrix --in-file F.dat} makes of
     * it with chunks of {@code chunkSize} tokens: each sum and {@code ncall} multiplied by {@code chunkSize}, one
     * count per tensor, the chunk count recomputed as the largest count over the chunk size.
     */
    public ImportanceMatrix inGgufForm(int chunkSize) {
        if (form == Form.GGUF) {
            return this;
        }
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("a chunk size must be positive, got " + chunkSize);
        }
        SortedMap<String, Entry> converted = new TreeMap<>();
        long maxCount = 0;
        for (var e : entries.entrySet()) {
            float[] sums = new float[e.getValue().sums().length];
            for (int j = 0; j < sums.length; j++) {
                sums[j] = 0.0f + e.getValue().sums()[j] * chunkSize;
            }
            long count = e.getValue().counts()[0] * chunkSize;
            maxCount = Math.max(maxCount, count);
            converted.put(e.getKey(), new Entry(sums, new long[] {count}));
        }
        return new ImportanceMatrix(Form.GGUF, converted, datasets, (int) (maxCount / chunkSize), chunkSize);
    }

    /**
     * This matrix in the legacy form, as llama-imatrix saves it with {@code --output-format dat}: tensors none of
     * whose matrices has data are left out; each sum becomes {@code sum / count * ncall} with
     * {@code ncall = ceil(largest count / chunk size)}, a matrix that never fired storing 1 for each column.
     */
    public ImportanceMatrix inLegacyForm() {
        if (form == Form.LEGACY) {
            return this;
        }
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("the importance matrix has no chunk size to count calls in");
        }
        SortedMap<String, Entry> converted = new TreeMap<>();
        for (var e : entries.entrySet()) {
            Entry entry = e.getValue();
            long maxCount = Arrays.stream(entry.counts()).max().orElseThrow();
            if (maxCount == 0) {
                continue;
            }
            int calls = (int) ((maxCount + (chunkSize - 1)) / chunkSize);
            int columns = entry.columns();
            float[] sums = new float[entry.sums().length];
            for (int i = 0; i < sums.length; i++) {
                float count = (float) entry.counts()[i / columns];
                float value = entry.sums()[i];
                if (count == 0.0f) {
                    value = 1.0f;
                    count = 1.0f;
                }
                sums[i] = (value / count) * (float) calls;
            }
            converted.put(e.getKey(), new Entry(sums, new long[] {calls}));
        }
        return new ImportanceMatrix(Form.LEGACY, converted, datasets, chunkCount, 0);
    }
}
