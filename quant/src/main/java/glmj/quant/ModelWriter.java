package glmj.quant;

import glmj.convert.WorkerThreads;
import glmj.gguf.GGUFWriter;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.quantize.Quantizer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a {@link QuantizationPlan} as a GGUF file or split set, streamed: tensor after tensor, each read from the
 * mapped source in chunks of rows and quantized straight into its region of the mapped output by every thread, so
 * memory holds a chunk of rows per thread whatever the model's size. A tensor whose type stays is copied as it is;
 * an expert's (or head's) rows are quantized with that matrix's importance, as llama-quantize does. The files appear
 * under their names only when complete.
 */
public final class ModelWriter {
    /** Weights a thread quantizes at a time, at least a row: llama-quantize's chunk is 16384. */
    private static final int CHUNK_WEIGHTS = 1 << 16;
    /** {@code general.quantization_version}, gguf-py's GGML_QUANT_VERSION. */
    private static final int QUANTIZATION_VERSION = 2;

    /** Told the bytes of tensor data written so far, from any thread. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void written(long doneBytes, long totalBytes);
    }

    private final QuantizationPlan plan;
    private final ImportanceMatrix importance;
    private final GGUFWriter gguf;
    private final AtomicLong done = new AtomicLong();
    private final ThreadLocal<float[]> rows = ThreadLocal.withInitial(() -> new float[0]);
    private WorkerThreads threads;
    private Progress progress = Progress.NONE;

    /**
     * A writer of {@code plan} over {@code source}'s tensors, quantizing with {@code importance} (null: none), whose
     * file {@code importanceFile} names in the output's {@code quantize.imatrix.*} keys as llama-quantize does.
     */
    public ModelWriter(ModelSource source, QuantizationPlan plan, ImportanceMatrix importance, String importanceFile)
            throws IOException {
        this.plan = plan;
        this.importance = importance;
        this.gguf = source.metadata(plan.recipe().fileType());
        gguf.putUInt32("general.quantization_version", QUANTIZATION_VERSION);
        if (importance != null) {
            gguf.putString("quantize.imatrix.file", importanceFile);
            if (!importance.datasets().isEmpty()) {
                gguf.putString("quantize.imatrix.dataset", importance.datasets().getFirst());
            }
            gguf.putUInt32("quantize.imatrix.entries_count", importance.entries().size());
            if (importance.chunkCount() > 0) {
                gguf.putUInt32("quantize.imatrix.chunks_count", importance.chunkCount());
            }
        }
        for (QuantizationPlan.Entry e : plan.entries()) {
            gguf.addTensor(e.name(), e.type(), e.tensor().shape(), target -> fill(e, target));
        }
    }

    /** The GGUF being written: its metadata, tensors and sizes. */
    public GGUFWriter gguf() {
        return gguf;
    }

    /**
     * Writes {@code output}, or with {@code maxShardBytes} above 0 the split set {@code output} less {@code .gguf},
     * {@code -00001-of-0000N.gguf} ..., cut as llama-gguf-split {@code --split-max-size} cuts it; on {@code threads}
     * threads, telling {@code progress} the tensor bytes written.
     *
     * @return the files written
     */
    public List<Path> write(Path output, long maxShardBytes, int threads, Progress progress) throws IOException {
        this.progress = progress;
        done.set(0);
        try (WorkerThreads pool = new WorkerThreads(threads)) {
            this.threads = pool;
            if (maxShardBytes <= 0) {
                gguf.write(output);
                return List.of(output);
            }
            return gguf.writeSplitBySize(output.toAbsolutePath().getParent(), splitPrefix(output), maxShardBytes);
        } finally {
            this.threads = null;
        }
    }

    /** The files {@link #write} writes for {@code output} and {@code maxShardBytes}. */
    public List<Path> files(Path output, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            return List.of(output);
        }
        int count = gguf.shardSizes(maxShardBytes).size();
        Path directory = output.toAbsolutePath().getParent();
        List<Path> files = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            files.add(directory.resolve(String.format("%s-%05d-of-%05d.gguf", splitPrefix(output), i, count)));
        }
        return files;
    }

    /** A split set's file name prefix: the output's name without {@code .gguf}, as llama-gguf-split takes it. */
    private static String splitPrefix(Path output) {
        String name = output.getFileName().toString();
        return name.endsWith(".gguf") ? name.substring(0, name.length() - ".gguf".length()) : name;
    }

    /** Writes {@code e}'s tensor into {@code target}: copied, converted or quantized, chunks of rows on every thread. */
    private void fill(QuantizationPlan.Entry e, MemorySegment target) {
        SourceTensor t = e.tensor();
        if (e.type() == t.storedType()) {
            MemorySegment.copy(t.storedData(), 0, target, 0, target.byteSize());
            progress.written(done.addAndGet(target.byteSize()), plan.tensorBytes());
            return;
        }
        int perRow = t.rowLength();
        int matrices = t.matrixCount();
        long rowsPerMatrix = t.rowCount() / matrices;
        float[][] perMatrix = e.quantized() && importance != null ? importance.importance(e.name(), perRow, matrices) : null;
        int rowsPerChunk = (int) Math.min(rowsPerMatrix, Math.max(1, CHUNK_WEIGHTS / perRow));
        long chunksPerMatrix = (rowsPerMatrix + rowsPerChunk - 1) / rowsPerChunk;
        long chunks = chunksPerMatrix * matrices;
        AtomicLong next = new AtomicLong();
        long rowBytes = e.type().byteSize(perRow);
        Runnable worker = () -> {
            for (long c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                int matrix = (int) (c / chunksPerMatrix);
                long first = (c % chunksPerMatrix) * rowsPerChunk;
                int count = (int) Math.min(rowsPerChunk, rowsPerMatrix - first);
                long row = matrix * rowsPerMatrix + first;
                float[] values = buffer(count * perRow);
                t.readRows(row, count, values, 0);
                if (e.type() == GGMLType.F32) {
                    MemorySegment.copy(values, 0, target, LittleEndian.FLOAT, row * rowBytes, count * perRow);
                } else {
                    Quantizer.quantize(e.type(), values, 0, count, perRow, perMatrix == null ? null : perMatrix[matrix],
                            target, row * rowBytes);
                }
                progress.written(done.addAndGet(count * rowBytes), plan.tensorBytes());
            }
        };
        int workers = (int) Math.min(threads.count(), chunks);
        List<Runnable> tasks = new ArrayList<>(workers);
        for (int i = 0; i < workers; i++) {
            tasks.add(worker);
        }
        threads.runAll(tasks);
    }

    /** This thread's buffer of at least {@code floats} floats, kept for its later chunks. */
    private float[] buffer(int floats) {
        float[] buffer = rows.get();
        if (buffer.length < floats) {
            buffer = new float[floats];
            rows.set(buffer);
        }
        return buffer;
    }
}
