package glmj.convert;

import glmj.gguf.GGUFWriter;
import glmj.hf.HfCheckpoint;
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
 * Converts a GLM-5 Hugging Face checkpoint to a glm-dsa GGUF, as llama.cpp's {@code convert_hf_to_gguf.py} does: the
 * tensors of {@link GlmDsaTensorMap}, each written as {@link TensorTypes} says (F32, F16 and BF16 rounded as ggml
 * rounds, other types by glmj's quantizers, which write what ggml's reference quantizers write), the model keys of
 * {@link GlmDsaMetadata} and the tokenizer of {@link HfTokenizer}. Tensors are streamed one at a time from the mapped
 * checkpoint into the mapped output, each split among all cores by rows, so memory holds a few rows per core whatever
 * the model's size.
 */
public final class CheckpointConverter {
    /** Values each thread converts at a time. */
    private static final int CHUNK_VALUES = 1 << 18;

    /** Told the checkpoint bytes converted so far, from any thread. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void converted(long doneBytes, long totalBytes);
    }

    private CheckpointConverter() {
    }

    /**
     * Writes the GGUF of {@code checkpoint} to {@code out}.
     *
     * @param name {@code general.name}
     */
    public static void convert(HfCheckpoint checkpoint, Path out, TensorTypes types, String name, Progress progress)
            throws IOException {
        GlmDsaTensorMap map = GlmDsaTensorMap.of(checkpoint);
        GGUFWriter w = new GGUFWriter();
        GlmDsaMetadata.put(w, map, name, types.fileType());
        HfTokenizer.put(w, checkpoint.directory(), checkpoint.config(), map.config().vocabularySize());
        long total = map.sourceBytes();
        AtomicLong done = new AtomicLong();
        try (WorkerThreads threads = new WorkerThreads(Runtime.getRuntime().availableProcessors())) {
            for (ConvertedTensor t : map.tensors()) {
                GGMLType type = types.typeOf(t);
                w.addTensor(t.name(), type, t.shape(), target -> {
                    fill(t, type, target, threads);
                    progress.converted(done.addAndGet(t.sourceBytes()), total);
                });
            }
            w.write(out);
        }
    }

    /** Writes {@code tensor} as {@code type} into {@code target}, its rows split into one run per thread. */
    static void fill(ConvertedTensor tensor, GGMLType type, MemorySegment target, WorkerThreads threads) {
        long rows = tensor.rowCount();
        long perThread = (rows + threads.count() - 1) / threads.count();
        List<Runnable> parts = new ArrayList<>();
        for (long first = 0; first < rows; first += perThread) {
            long from = first;
            long to = Math.min(rows, first + perThread);
            parts.add(() -> fillRows(tensor, type, target, from, to));
        }
        threads.runAll(parts);
    }

    private static void fillRows(ConvertedTensor tensor, GGMLType type, MemorySegment target, long from, long to) {
        int length = tensor.rowLength();
        int rowsPerChunk = Math.max(1, CHUNK_VALUES / Math.max(1, length));
        float[] values = new float[(int) Math.min((long) rowsPerChunk, to - from) * length];
        for (long row = from; row < to; row += rowsPerChunk) {
            int rows = (int) Math.min(rowsPerChunk, to - row);
            tensor.readRows(row, rows, values, 0);
            int count = rows * length;
            long offset = type.byteSize(row * length);
            if (type == GGMLType.F32) {
                MemorySegment.copy(values, 0, target, LittleEndian.FLOAT, offset, count);
            } else {
                Quantizer.quantize(type, values, 0, target, offset, count);
            }
        }
    }

    /** Converts with an output type for the whole file, as {@code convert_hf_to_gguf.py --outtype} does. */
    public static void convert(HfCheckpoint checkpoint, Path out, OutputType type, String name) throws IOException {
        convert(checkpoint, out, type, name, Progress.NONE);
    }
}
