package glmj.quant.imatrix;

import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFFormatException;
import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.quant.imatrix.ImportanceMatrix.Entry;
import glmj.quant.imatrix.ImportanceMatrix.Form;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * llama.cpp's two importance matrix files ({@code common/imatrix-loader.cpp}, {@code tools/imatrix/imatrix.cpp}):
 * <ul>
 *   <li>GGUF: {@code general.type = imatrix}, {@code imatrix.datasets} (strings), {@code imatrix.chunk_count} and
 *   {@code imatrix.chunk_size} (u32), and per weight tensor {@code NAME.in_sum2} (F32, columns x matrices) and
 *   {@code NAME.counts} (F32, 1 x matrices), in name order;</li>
 *   <li>legacy {@code .dat}, little-endian: int32 entry count, then per entry an int32 name length, the name,
 *   int32 {@code ncall}, int32 value count and the float values; then, optionally, the int32 chunk count and an
 *   int32-length dataset name.</li>
 * </ul>
 * A file is read as GGUF when it starts with the GGUF magic, as legacy otherwise, as llama.cpp's loader does.
 */
public final class ImatrixFiles {

    static final String TYPE_KEY = "general.type";
    static final String DATASETS_KEY = "imatrix.datasets";
    static final String CHUNK_COUNT_KEY = "imatrix.chunk_count";
    static final String CHUNK_SIZE_KEY = "imatrix.chunk_size";
    private static final String SUMS_SUFFIX = ".in_sum2";
    private static final String COUNTS_SUFFIX = ".counts";

    private ImatrixFiles() {
    }

    /**
     * Reads an importance matrix file of either format.
     *
     * @throws IOException with a one-line message naming the file and what is wrong with it
     */
    public static ImportanceMatrix read(Path file) throws IOException {
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int read = in.readNBytes(magic, 0, 4);
            if (read == 4 && new String(magic, StandardCharsets.US_ASCII).equals("GGUF")) {
                return readGguf(file);
            }
        }
        return readLegacy(file);
    }

    /** Writes {@code matrix} in the file format of its form: GGUF for {@link Form#GGUF}, {@code .dat} for legacy. */
    public static void write(ImportanceMatrix matrix, Path file) throws IOException {
        if (matrix.form() == Form.GGUF) {
            writeGguf(matrix, file);
        } else {
            writeLegacy(matrix, file);
        }
    }

    private static ImportanceMatrix readGguf(Path file) throws IOException {
        try (GGUFFile gguf = GGUFFile.open(file)) {
            Metadata metadata = gguf.metadata();
            if (!metadata.has(DATASETS_KEY) || !metadata.has(CHUNK_COUNT_KEY) || !metadata.has(CHUNK_SIZE_KEY)) {
                throw new IOException(file + ": not an importance matrix: it lacks " + DATASETS_KEY + ", "
                        + CHUNK_COUNT_KEY + " or " + CHUNK_SIZE_KEY);
            }
            List<String> datasets = metadata.arrayElementType(DATASETS_KEY) == GGUFValueType.STRING
                    ? List.of(metadata.getStringArray(DATASETS_KEY)) : List.of();
            Map<String, TensorInfo> sums = new HashMap<>();
            Map<String, TensorInfo> counts = new HashMap<>();
            for (TensorInfo tensor : gguf.tensors()) {
                if (tensor.name().endsWith(SUMS_SUFFIX)) {
                    sums.put(tensor.name().substring(0, tensor.name().length() - SUMS_SUFFIX.length()), tensor);
                } else if (tensor.name().endsWith(COUNTS_SUFFIX)) {
                    counts.put(tensor.name().substring(0, tensor.name().length() - COUNTS_SUFFIX.length()), tensor);
                }
            }
            if (sums.isEmpty()) {
                throw new IOException(file + ": the importance matrix holds no tensors");
            }
            SortedMap<String, Entry> entries = new TreeMap<>();
            for (var e : sums.entrySet()) {
                String name = e.getKey();
                TensorInfo sumTensor = e.getValue();
                TensorInfo countTensor = counts.remove(name);
                if (countTensor == null) {
                    throw new IOException(file + ": " + name + SUMS_SUFFIX + " has no " + name + COUNTS_SUFFIX);
                }
                if (sumTensor.type() != GGMLType.F32 || countTensor.type() != GGMLType.F32) {
                    throw new IOException(file + ": the sums and counts of " + name + " must be F32");
                }
                float[] values = floats(sumTensor.data());
                float[] rawCounts = floats(countTensor.data());
                long[] matrixCounts = new long[rawCounts.length];
                for (int m = 0; m < rawCounts.length; m++) {
                    matrixCounts[m] = Math.round((double) rawCounts[m]); // std::lround, for counts that are never negative
                }
                if (matrixCounts.length == 0 || values.length == 0 || values.length % matrixCounts.length != 0) {
                    throw new IOException(file + ": " + values.length + " sums of " + name + " do not divide into "
                            + matrixCounts.length + " matrices");
                }
                entries.put(name, new Entry(values, matrixCounts));
            }
            if (!counts.isEmpty()) {
                String name = counts.keySet().iterator().next();
                throw new IOException(file + ": " + name + COUNTS_SUFFIX + " has no " + name + SUMS_SUFFIX);
            }
            return new ImportanceMatrix(Form.GGUF, entries, datasets, (int) metadata.getLong(CHUNK_COUNT_KEY),
                    (int) metadata.getLong(CHUNK_SIZE_KEY));
        } catch (GGUFFormatException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static float[] floats(MemorySegment data) {
        float[] values = new float[(int) (data.byteSize() / 4)];
        MemorySegment.copy(data, LittleEndian.FLOAT, 0, values, 0, values.length);
        return values;
    }

    private static ImportanceMatrix readLegacy(Path file) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            int entryCount = readInt(in, file, "the entry count");
            if (entryCount < 1) {
                throw new IOException(file + ": not an importance matrix (neither GGUF nor a legacy .dat with entries)");
            }
            SortedMap<String, Entry> entries = new TreeMap<>();
            for (int i = 0; i < entryCount; i++) {
                int length = readInt(in, file, "the name length of entry " + (i + 1));
                if (length < 0 || length > 4096) {
                    throw new IOException(file + ": entry " + (i + 1) + " has a name of " + length + " bytes");
                }
                String name = new String(readBytes(in, length, file, "the name of entry " + (i + 1)), StandardCharsets.UTF_8);
                int calls = readInt(in, file, "the call count of " + name);
                int count = readInt(in, file, "the value count of " + name);
                if (count < 1) {
                    throw new IOException(file + ": entry " + name + " has " + count + " values");
                }
                ByteBuffer values = ByteBuffer.wrap(readBytes(in, 4L * count, file, "the values of " + name))
                        .order(ByteOrder.LITTLE_ENDIAN);
                float[] sums = new float[count];
                values.asFloatBuffer().get(sums);
                entries.put(name, new Entry(sums, new long[] {calls}));
            }
            int chunkCount = 0;
            List<String> datasets = new ArrayList<>();
            byte[] trailer = in.readAllBytes();
            if (trailer.length >= 4) {
                ByteBuffer rest = ByteBuffer.wrap(trailer).order(ByteOrder.LITTLE_ENDIAN);
                chunkCount = rest.getInt();
                if (rest.remaining() >= 4) {
                    int length = rest.getInt();
                    if (length > 0 && rest.remaining() >= length) {
                        datasets.add(new String(trailer, rest.position(), length, StandardCharsets.UTF_8));
                    }
                }
            }
            return new ImportanceMatrix(Form.LEGACY, entries, datasets, chunkCount, 0);
        }
    }

    /** A little-endian int32. */
    private static int readInt(InputStream in, Path file, String what) throws IOException {
        return ByteBuffer.wrap(readBytes(in, 4, file, what)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static byte[] readBytes(InputStream in, long length, Path file, String what) throws IOException {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": " + what + " would take " + length + " bytes");
        }
        byte[] bytes = in.readNBytes((int) length);
        if (bytes.length != length) {
            throw new IOException(file + ": the file ends within " + what);
        }
        return bytes;
    }

    /** The GGUF form, laid out as llama-imatrix's {@code save_imatrix} lays it out. */
    private static void writeGguf(ImportanceMatrix matrix, Path file) throws IOException {
        GGUFWriter writer = new GGUFWriter()
                .putString(TYPE_KEY, "imatrix")
                .putArray(DATASETS_KEY, GGUFValueType.STRING, matrix.datasets().toArray(String[]::new))
                .putUInt32(CHUNK_COUNT_KEY, Integer.toUnsignedLong(matrix.chunkCount()))
                .putUInt32(CHUNK_SIZE_KEY, Integer.toUnsignedLong(matrix.chunkSize()));
        for (var e : matrix.entries().entrySet()) {
            Entry entry = e.getValue();
            float[] counts = new float[entry.matrices()];
            for (int m = 0; m < counts.length; m++) {
                counts[m] = (float) entry.counts()[m];
            }
            // ggml writes as many dimensions as the last one above 1 needs
            long[] sumsShape = entry.matrices() > 1 ? new long[] {entry.columns(), entry.matrices()} : new long[] {entry.columns()};
            long[] countsShape = entry.matrices() > 1 ? new long[] {1, entry.matrices()} : new long[] {1};
            writer.addTensor(e.getKey() + SUMS_SUFFIX, GGMLType.F32, sumsShape, MemorySegment.ofArray(littleEndian(entry.sums())));
            writer.addTensor(e.getKey() + COUNTS_SUFFIX, GGMLType.F32, countsShape, MemorySegment.ofArray(littleEndian(counts)));
        }
        writer.write(file);
    }

    private static byte[] littleEndian(float[] values) {
        byte[] bytes = new byte[4 * values.length];
        MemorySegment.copy(values, 0, MemorySegment.ofArray(bytes), LittleEndian.FLOAT, 0, values.length);
        return bytes;
    }

    /** The legacy form, laid out as llama-imatrix's {@code save_imatrix_legacy} lays it out. */
    private static void writeLegacy(ImportanceMatrix matrix, Path file) throws IOException {
        Path temporary = GGUFWriter.temporaryFile(file);
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(temporary))) {
                ByteBuffer word = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
                writeInt(out, word, matrix.entries().size());
                for (var e : matrix.entries().entrySet()) {
                    byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
                    writeInt(out, word, name.length);
                    out.write(name);
                    writeInt(out, word, (int) e.getValue().counts()[0]);
                    writeInt(out, word, e.getValue().sums().length);
                    out.write(littleEndian(e.getValue().sums()));
                }
                writeInt(out, word, matrix.chunkCount());
                byte[] dataset = matrix.datasets().isEmpty() ? new byte[0]
                        : matrix.datasets().getLast().getBytes(StandardCharsets.UTF_8);
                writeInt(out, word, dataset.length);
                out.write(dataset);
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static void writeInt(OutputStream out, ByteBuffer word, int value) throws IOException {
        out.write(word.clear().putInt(value).array());
    }
}
