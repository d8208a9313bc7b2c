package glmj.quality;

import glmj.convert.ConvertedTensor;
import glmj.convert.GlmDsaTensorMap;
import glmj.convert.WorkerThreads;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFFormatException;
import glmj.gguf.Paging;
import glmj.gguf.TensorInfo;
import glmj.hf.CheckpointTensor;
import glmj.kernel.RowDecoder;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures how far GGUFs' weights are from a reference checkpoint's: every tensor of each model is dequantized (as
 * ggml dequantizes it) and compared, value for value, with the reference's f32 values (see {@link GlmDsaTensorMap}),
 * giving a {@link WeightError} per tensor. The tensors are streamed in file order in chunks of rows that every core
 * takes in turn, each thread reusing its two buffers: the reference's rows are read once and compared with every
 * model's, so a run over several quant levels reads the checkpoint (GLM-5-FP8's 750 GB) once, each file at the speed
 * the storage delivers, holding a few hundred kilobytes per core.
 */
public final class WeightComparison {
    /** Values per chunk: both buffers of a thread stay in its cache. */
    private static final int CHUNK_VALUES = 1 << 15;
    /** Values summed in float lanes before the sums move to double. */
    private static final int FLOAT_RUN = 4096;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** A float's magnitude bits: as ints, non-negative floats order as their values, NaN above infinity. */
    private static final int MAGNITUDE = 0x7FFF_FFFF;

    /** Told the bytes read so far, from any thread. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void read(long doneBytes, long totalBytes);
    }

    /** One model tensor and its reference. */
    private record Pair(TensorInfo test, ConvertedTensor reference, RowDecoder decoder, WeightError error) {
    }

    /** A reference tensor and the models' tensors compared with it, from the same rows. */
    private record Job(ConvertedTensor reference, List<Pair> tests) {
        long bytes() {
            long bytes = reference.sourceBytes();
            for (Pair p : tests) {
                bytes += p.test.byteSize();
            }
            return bytes;
        }

        /** Asks the OS to start reading every byte the job compares from disk, and returns at once. */
        void prefetch() {
            for (CheckpointTensor source : reference.sources()) {
                Paging.willNeed(source.stored().data());
                if (source.isFp8()) {
                    Paging.willNeed(source.storedScales().data());
                }
            }
            for (Pair p : tests) {
                Paging.willNeed(p.test.data());
            }
        }
    }

    private WeightComparison() {
    }

    /** The error of each tensor of {@code model} against {@code reference}, on {@code threads} threads. */
    public static ModelWeightErrors measure(GlmDsaTensorMap reference, Path referenceDirectory, GGUFFile model, int threads,
            Progress progress) {
        return measure(reference, referenceDirectory, List.of(model), threads, progress).getFirst();
    }

    /**
     * The error of each tensor of each of {@code models} against {@code reference}, in one pass over the reference on
     * {@code threads} threads; each result's bytes read and seconds are the whole pass's.
     *
     * @throws GGUFFormatException when a model is not glm-dsa or its tensors do not match the reference's (a tensor
     *                             without counterpart, a different shape, a missing tensor outside the MTP layers)
     */
    public static List<ModelWeightErrors> measure(GlmDsaTensorMap reference, Path referenceDirectory, List<GGUFFile> models,
            int threads, Progress progress) {
        List<List<Pair>> pairs = new ArrayList<>();
        List<List<String>> skipped = new ArrayList<>();
        Map<String, Job> jobs = new LinkedHashMap<>();
        for (GGUFFile model : models) {
            List<Pair> modelPairs = pairs(reference, referenceDirectory, model);
            pairs.add(modelPairs);
            skipped.add(skipped(reference, model));
            for (Pair p : modelPairs) {
                jobs.computeIfAbsent(p.test.name(), name -> new Job(p.reference, new ArrayList<>())).tests.add(p);
            }
        }
        long total = jobs.values().stream().mapToLong(Job::bytes).sum();
        long start = System.nanoTime();
        Cursor cursor = new Cursor(List.copyOf(jobs.values()));
        AtomicLong done = new AtomicLong();
        try (WorkerThreads workers = new WorkerThreads(threads)) {
            workers.runAll(Collections.<Runnable>nCopies(threads, () -> work(cursor, done, total, progress)));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        List<ModelWeightErrors> results = new ArrayList<>();
        for (int m = 0; m < models.size(); m++) {
            List<ModelWeightErrors.TensorError> tensors = new ArrayList<>();
            for (Pair p : pairs.get(m)) {
                String name = p.test.name();
                tensors.add(new ModelWeightErrors.TensorError(name, p.test.type().ggmlName, TensorKind.of(name),
                        TensorKind.layerOf(name), p.error));
            }
            GGUFFile model = models.get(m);
            results.add(new ModelWeightErrors(model.shards().getFirst(), model.totalTensorBytes(), total, seconds, tensors,
                    skipped.get(m)));
        }
        return results;
    }

    /** The model's tensors in file order, each with its reference, checked to match. */
    private static List<Pair> pairs(GlmDsaTensorMap reference, Path referenceDirectory, GGUFFile model) {
        Path file = model.shards().getFirst();
        String architecture = model.metadata().getString("general.architecture", "");
        if (!architecture.equals("glm-dsa")) {
            throw new GGUFFormatException(file, "general.architecture is '" + architecture + "' but the reference "
                    + referenceDirectory + " is GLM-5 (glm-dsa)");
        }
        Map<String, ConvertedTensor> byName = new LinkedHashMap<>();
        reference.tensors().forEach(t -> byName.put(t.name(), t));
        List<Pair> pairs = new ArrayList<>();
        for (TensorInfo t : model.tensors()) {
            ConvertedTensor r = byName.get(t.name());
            if (r == null) {
                throw new GGUFFormatException(file, "tensor '" + t.name() + "' has no counterpart in the reference " + referenceDirectory);
            }
            if (!Arrays.equals(r.shape(), t.shape())) {
                throw new GGUFFormatException(file, "tensor '" + t.name() + "' is " + Arrays.toString(t.shape()) + " but "
                        + Arrays.toString(r.shape()) + " in the reference " + referenceDirectory);
            }
            if (!t.type().isReadable()) {
                throw new GGUFFormatException(file, "tensor '" + t.name() + "' is " + t.type().ggmlName + ", which glmj cannot dequantize");
            }
            pairs.add(new Pair(t, r, t.type().rowDecoder(), new WeightError()));
        }
        return pairs;
    }

    /** Reference tensors the model lacks: allowed only for whole MTP layers, which many GGUFs leave out. */
    private static List<String> skipped(GlmDsaTensorMap reference, GGUFFile model) {
        List<String> skipped = new ArrayList<>();
        for (ConvertedTensor t : reference.tensors()) {
            if (model.findTensor(t.name()).isEmpty()) {
                int layer = TensorKind.layerOf(t.name());
                if (layer < 0 || !reference.config().isNextn(layer)) {
                    throw new GGUFFormatException(model.shards().getFirst(), "tensor '" + t.name() + "' of the reference is missing");
                }
                skipped.add(t.name());
            }
        }
        return skipped;
    }

    /**
     * Hands out chunks of rows, tensor after tensor in file order, asking the OS for the next tensor's bytes as the
     * threads start on one: a cold checkpoint then streams from disk while the cores compare.
     */
    private static final class Cursor {
        private final List<Job> jobs;
        private int job;
        private long row;

        Cursor(List<Job> jobs) {
            this.jobs = jobs;
            prefetch(0);
            prefetch(1);
        }

        private void prefetch(int j) {
            if (j < jobs.size()) {
                jobs.get(j).prefetch();
            }
        }

        /** The next chunk into {@code chunk}; false when there is none. */
        synchronized boolean next(Chunk chunk) {
            while (job < jobs.size() && row >= jobs.get(job).reference.rowCount()) {
                job++;
                row = 0;
                prefetch(job + 1);
            }
            if (job == jobs.size()) {
                return false;
            }
            Job j = jobs.get(job);
            int rowsPerChunk = Math.max(1, CHUNK_VALUES / j.reference.rowLength());
            chunk.job = j;
            chunk.firstRow = row;
            chunk.rows = (int) Math.min(rowsPerChunk, j.reference.rowCount() - row);
            row += chunk.rows;
            return true;
        }
    }

    /** A thread's current chunk. */
    private static final class Chunk {
        Job job;
        long firstRow;
        int rows;
    }

    private static void work(Cursor cursor, AtomicLong done, long total, Progress progress) {
        Chunk chunk = new Chunk();
        float[] reference = new float[0];
        float[] test = new float[0];
        double[] sums = new double[5];
        while (cursor.next(chunk)) {
            Job job = chunk.job;
            int length = job.reference.rowLength();
            int count = chunk.rows * length;
            if (reference.length < count) {
                reference = new float[Math.max(count, CHUNK_VALUES)];
                test = new float[reference.length];
            }
            job.reference.readRows(chunk.firstRow, chunk.rows, reference, 0);
            for (Pair p : job.tests) {
                decode(p.test, p.decoder, length, chunk.firstRow, chunk.rows, test);
                compare(reference, test, count, sums);
                synchronized (p.error) {
                    p.error.add(count, sums[0], sums[1], sums[2], sums[3], sums[4]);
                }
            }
            long rowCount = job.reference.rowCount();
            progress.read(done.addAndGet(Math.round((double) job.bytes() * chunk.rows / rowCount)), total);
        }
    }

    /** Rows of the model's tensor, of {@code length} values, as f32, as ggml dequantizes them. */
    private static void decode(TensorInfo t, RowDecoder decoder, int length, long firstRow, int rows, float[] dst) {
        long rowBytes = t.rowByteSize();
        MemorySegment data = t.data();
        if (t.type() == GGMLType.F32) {
            MemorySegment.copy(data, LittleEndian.FLOAT, firstRow * rowBytes, dst, 0, rows * length);
            return;
        }
        for (int r = 0; r < rows; r++) {
            decoder.decode(data, (firstRow + r) * rowBytes, dst, r * length, length);
        }
    }

    /**
     * {@code sums} = sum r^2, sum t^2, sum r t, sum (t - r)^2 and max |t - r| over the first {@code count} values, in
     * float lanes for runs of {@link #FLOAT_RUN} values, then in double. The largest |t - r| is kept as the integer
     * maximum of its bits (one cycle), not as FloatVector.max, whose NaN and -0 rules cost a chain of blends.
     */
    static void compare(float[] reference, float[] test, int count, double[] sums) {
        Arrays.fill(sums, 0);
        for (int start = 0; start < count; start += FLOAT_RUN) {
            int end = Math.min(count, start + FLOAT_RUN);
            FloatVector rr = FloatVector.zero(F);
            FloatVector tt = FloatVector.zero(F);
            FloatVector rt = FloatVector.zero(F);
            FloatVector dd = FloatVector.zero(F);
            IntVector max = IntVector.zero(I);
            int i = start;
            for (int last = end - F.length(); i <= last; i += F.length()) {
                FloatVector r = FloatVector.fromArray(F, reference, i);
                FloatVector t = FloatVector.fromArray(F, test, i);
                FloatVector d = t.sub(r);
                rr = r.fma(r, rr);
                tt = t.fma(t, tt);
                rt = r.fma(t, rt);
                dd = d.fma(d, dd);
                max = max.max(((IntVector) d.reinterpretShape(I, 0)).and(MAGNITUDE));
            }
            double sumRr = rr.reduceLanes(VectorOperators.ADD);
            double sumTt = tt.reduceLanes(VectorOperators.ADD);
            double sumRt = rt.reduceLanes(VectorOperators.ADD);
            double sumDd = dd.reduceLanes(VectorOperators.ADD);
            double maxAbs = Float.intBitsToFloat(max.reduceLanes(VectorOperators.MAX));
            for (; i < end; i++) {
                double r = reference[i];
                double t = test[i];
                sumRr += r * r;
                sumTt += t * t;
                sumRt += r * t;
                sumDd += (t - r) * (t - r);
                maxAbs = Math.max(maxAbs, Math.abs(t - r));
            }
            sums[0] += sumRr;
            sums[1] += sumTt;
            sums[2] += sumRt;
            sums[3] += sumDd;
            sums[4] = Math.max(sums[4], maxAbs);
        }
    }
}
