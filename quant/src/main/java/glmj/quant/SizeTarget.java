package glmj.quant;

import glmj.convert.WorkerThreads;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.tensor.GGMLType;
import glmj.tensor.quantize.Quantizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses every measured tensor's type so that the file fits a size with the least expected loss (docs/quantize.md).
 *
 * <p>The loss of a tensor quantized to a type is the expected squared error it adds to its matmul's outputs per token,
 * {@code sum over rows and columns of (w - q)^2 * E[x^2]}, with {@code E[x^2]} per input column from the importance
 * matrix: its raw sums over the tokens collected, so an expert counts as often as tokens chose it. It is measured by
 * quantizing a sample of rows ({@link #SAMPLE_ROWS}, spread over the experts) with glmj's quantizers and the
 * importance, as the file would be written, and scaled to all rows. The tensors measured are the quantized ones the
 * importance matrix has data for; the others (token embeddings, the output head unless collected, the MTP block)
 * keep the recipe's types and their bytes count against the size. The gate and up projections sharing an input are
 * chosen together (one type for both, so the kernels fuse them).
 *
 * <p>Minimizing the summed loss under the size is a multiple-choice knapsack; each group's (bytes, loss) candidates
 * are reduced to their lower convex hull, and the hull steps, cheapest loss per byte first, are taken while they fit:
 * the Lagrangian relaxation's solution, exact but for the last step that did not fit. Measuring takes the time;
 * fitting a size then is instant.
 */
public final class SizeTarget {
    /** The types --target-size chooses among, smallest first (the recipe's own type of a tensor is a candidate too). */
    public static final List<GGMLType> CANDIDATES = List.of(GGMLType.IQ2_XXS, GGMLType.IQ2_XS, GGMLType.IQ2_S, GGMLType.Q2_K,
            GGMLType.IQ3_XXS, GGMLType.IQ3_S, GGMLType.Q3_K, GGMLType.IQ4_XS, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
            GGMLType.Q8_0);
    /** Rows of a tensor quantized to measure each candidate. */
    public static final int SAMPLE_ROWS = 128;
    /** Bytes of padding a tensor may take in the file, at most. */
    private static final int PADDING = 32;

    /** A candidate: a type, the bytes it takes and its expected loss. */
    public record Candidate(GGMLType type, long bytes, double loss) {
    }

    /** The outcome: the plan chosen, its expected loss and the recipe's, over the measured tensors. */
    public record Choice(QuantizationPlan plan, double loss, double recipeLoss, int measuredTensors) {
    }

    /** Told the tensors measured so far, from any thread. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void measured(int done, int total);
    }

    /** Tensors chosen together (gate and up projections of one FFN, or a tensor alone), their candidates and the recipe's loss. */
    private record Group(String key, List<QuantizationPlan.Entry> entries, List<Candidate> candidates, double recipeLoss) {
    }

    /**
     * Measures the candidates of {@code recipePlan}'s tensors that {@code importance} has data for, on
     * {@code threads} threads.
     *
     * @throws QuantizeException when the importance matrix measures no tensor
     */
    public static SizeTarget measure(QuantizationPlan recipePlan, ImportanceMatrix importance, int threads, Progress progress) {
        Map<String, List<QuantizationPlan.Entry>> grouped = new LinkedHashMap<>();
        long fixed = 0;
        for (QuantizationPlan.Entry e : recipePlan.entries()) {
            fixed += PADDING;
            if (e.quantized() && importance.entries().containsKey(e.name())) {
                grouped.computeIfAbsent(groupKey(e.name()), k -> new ArrayList<>()).add(e);
            } else {
                fixed += e.bytes();
            }
        }
        if (grouped.isEmpty()) {
            throw new QuantizeException("the importance matrix has data for none of the tensors the recipe quantizes");
        }
        return new SizeTarget(recipePlan, measure(grouped, importance, threads, progress), fixed);
    }

    private final QuantizationPlan recipePlan;
    private final List<Group> groups;
    /** Bytes of the tensors not measured, and of every tensor's padding at most. */
    private final long fixedBytes;

    private SizeTarget(QuantizationPlan recipePlan, List<Group> groups, long fixedBytes) {
        this.recipePlan = recipePlan;
        this.groups = groups;
        this.fixedBytes = fixedBytes;
    }

    /**
     * The plan whose file, of which {@code overheadBytes} are header, fits in {@code targetBytes} with the least
     * expected loss.
     *
     * @throws QuantizeException when even the smallest types do not fit
     */
    public Choice fit(long overheadBytes, long targetBytes) {
        long fixed = fixedBytes + overheadBytes;
        long available = targetBytes - fixed;
        long smallest = groups.stream().mapToLong(g -> g.candidates().getFirst().bytes()).sum();
        if (smallest > available) {
            throw new QuantizeException(String.format(java.util.Locale.ROOT, "no mix fits in %,d bytes: with the smallest types the"
                    + " file takes %,d bytes, %,d of them in tensors the importance matrix does not measure (their types are"
                    + " the recipe's)", targetBytes, smallest + fixed, fixed));
        }
        Candidate[] picks = fill(groups, available);
        Map<String, GGMLType> chosen = new HashMap<>();
        double loss = 0;
        double recipeLoss = 0;
        int measured = 0;
        for (int g = 0; g < groups.size(); g++) {
            loss += picks[g].loss();
            recipeLoss += groups.get(g).recipeLoss();
            for (QuantizationPlan.Entry e : groups.get(g).entries()) {
                chosen.put(e.name(), picks[g].type());
                measured++;
            }
        }
        return new Choice(recipePlan.withTypes(chosen), loss, recipeLoss, measured);
    }

    /** Gate and up projections of an FFN share a key; every other tensor has its own name. */
    static String groupKey(String name) {
        return name.replace("ffn_gate_", "ffn_gate_up_").replace("ffn_up_", "ffn_gate_up_")
                .replace("ffn_gate.", "ffn_gate_up.").replace("ffn_up.", "ffn_gate_up.");
    }

    /** Each group's candidates on their lower convex hull, fewest bytes first, measured on every thread. */
    private static List<Group> measure(Map<String, List<QuantizationPlan.Entry>> grouped, ImportanceMatrix importance,
                                       int threads, Progress progress) {
        int total = grouped.values().stream().mapToInt(List::size).sum();
        AtomicInteger done = new AtomicInteger();
        Map<String, Group> groups = new HashMap<>();
        List<Runnable> tasks = new ArrayList<>();
        for (var g : grouped.entrySet()) {
            tasks.add(() -> {
                List<GGMLType> types = new ArrayList<>();
                for (GGMLType type : CANDIDATES) {
                    types.add(QuantizeRules.fallback(type, g.getValue().getFirst().tensor().rowLength()));
                }
                g.getValue().forEach(e -> types.add(e.type()));
                Map<GGMLType, double[]> sums = new TreeMap<>();
                double recipeLoss = 0;
                for (QuantizationPlan.Entry e : g.getValue()) {
                    Map<GGMLType, Double> losses = losses(e, importance, types.stream().distinct().toList());
                    losses.forEach((type, loss) -> {
                        double[] sum = sums.computeIfAbsent(type, k -> new double[2]);
                        sum[0] += type.byteSize(e.tensor().elementCount());
                        sum[1] += loss;
                    });
                    recipeLoss += losses.get(e.type());
                    progress.measured(done.incrementAndGet(), total);
                }
                List<Candidate> list = new ArrayList<>();
                sums.forEach((type, sum) -> list.add(new Candidate(type, (long) sum[0], sum[1])));
                Group group = new Group(g.getKey(), g.getValue(), hull(list), recipeLoss);
                synchronized (groups) {
                    groups.put(g.getKey(), group);
                }
            });
        }
        try (WorkerThreads pool = new WorkerThreads(threads)) {
            pool.runAll(tasks);
        }
        return grouped.keySet().stream().map(groups::get).toList();
    }

    /**
     * The expected loss of tensor {@code e} at each of {@code types}:
     * {@link #SAMPLE_ROWS} rows spread evenly over its matrices, each quantized with its matrix's importance and
     * decoded, their squared errors weighed by the mean squared input per column and token, scaled to all rows.
     */
    static Map<GGMLType, Double> losses(QuantizationPlan.Entry e, ImportanceMatrix importance, List<GGMLType> types) {
        SourceTensor t = e.tensor();
        int columns = t.rowLength();
        int matrices = t.matrixCount();
        long rowsPerMatrix = t.rowCount() / matrices;
        float[][] perMatrix = importance.importance(e.name(), columns, matrices);
        double[][] weights = squaresPerToken(importance, e.name(), columns, matrices);
        int perMatrixSamples = (int) Math.max(1, Math.min(rowsPerMatrix, SAMPLE_ROWS / matrices));
        Map<GGMLType, Double> losses = new TreeMap<>();
        float[] row = new float[columns];
        float[] decoded = new float[columns];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment blocks = arena.allocate(GGMLType.F32.byteSize(columns));
            for (int m = 0; m < matrices; m++) {
                for (int s = 0; s < perMatrixSamples; s++) {
                    long r = m * rowsPerMatrix + s * rowsPerMatrix / perMatrixSamples;
                    t.readRows(r, 1, row, 0);
                    for (GGMLType type : types) {
                        double error = 0;
                        if (type != GGMLType.F32) {
                            Quantizer.quantize(type, row, 0, 1, columns, perMatrix[m], blocks, 0);
                            type.dequantize(blocks, 0, decoded, 0, columns);
                            for (int j = 0; j < columns; j++) {
                                double d = row[j] - decoded[j];
                                error += d * d * weights[m][j];
                            }
                        }
                        losses.merge(type, error * rowsPerMatrix / perMatrixSamples, Double::sum);
                    }
                }
            }
        }
        return losses;
    }

    /**
     * The mean square of each input column per token the importance matrix was collected on: the raw sums over the
     * tokens (GGUF form), so an expert's weigh as often as it was chosen; in the legacy form, which keeps no count of
     * tokens, each matrix's mean square per use.
     */
    private static double[][] squaresPerToken(ImportanceMatrix importance, String name, int columns, int matrices) {
        ImportanceMatrix.Entry entry = importance.entries().get(name);
        double[][] squares = new double[matrices][columns];
        if (importance.form() == ImportanceMatrix.Form.GGUF) {
            double tokens = Math.max(1, (double) importance.chunkCount() * importance.chunkSize());
            for (int m = 0; m < matrices; m++) {
                for (int j = 0; j < columns; j++) {
                    squares[m][j] = entry.sums()[m * columns + j] / tokens;
                }
            }
        } else {
            float[][] perMatrix = importance.importance(name, columns, matrices);
            for (int m = 0; m < matrices; m++) {
                for (int j = 0; j < columns; j++) {
                    squares[m][j] = perMatrix[m][j];
                }
            }
        }
        return squares;
    }

    /** The candidates on the lower convex hull of (bytes, loss), fewest bytes first: each step buys loss at a falling rate. */
    static List<Candidate> hull(List<Candidate> candidates) {
        List<Candidate> sorted = new ArrayList<>(candidates);
        sorted.sort(Comparator.comparingLong(Candidate::bytes).thenComparingDouble(Candidate::loss));
        List<Candidate> hull = new ArrayList<>();
        for (Candidate c : sorted) {
            if (!hull.isEmpty() && c.loss() >= hull.getLast().loss()) {
                continue;
            }
            while (hull.size() >= 2 && slope(hull.get(hull.size() - 2), hull.getLast()) <= slope(hull.getLast(), c)) {
                hull.removeLast();
            }
            hull.add(c);
        }
        return hull;
    }

    /** Loss saved per byte from {@code a} to the bigger {@code b}. */
    private static double slope(Candidate a, Candidate b) {
        return (a.loss() - b.loss()) / (b.bytes() - a.bytes());
    }

    /** Every group's candidate: from the smallest, the steps saving most loss per byte first, while they fit. */
    private static Candidate[] fill(List<Group> groups, long available) {
        record Step(int group, int to, double slope) {
        }
        int[] at = new int[groups.size()];
        List<Step> steps = new ArrayList<>();
        long used = 0;
        for (int g = 0; g < groups.size(); g++) {
            List<Candidate> c = groups.get(g).candidates();
            used += c.getFirst().bytes();
            for (int k = 1; k < c.size(); k++) {
                steps.add(new Step(g, k, slope(c.get(k - 1), c.get(k))));
            }
        }
        steps.sort(Comparator.comparingDouble(Step::slope).reversed());
        for (Step s : steps) {
            List<Candidate> c = groups.get(s.group()).candidates();
            long extra = c.get(s.to()).bytes() - c.get(s.to() - 1).bytes();
            if (at[s.group()] == s.to() - 1 && used + extra <= available) {
                at[s.group()] = s.to();
                used += extra;
            }
        }
        Candidate[] chosen = new Candidate[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            chosen[g] = groups.get(g).candidates().get(at[g]);
        }
        return chosen;
    }
}
