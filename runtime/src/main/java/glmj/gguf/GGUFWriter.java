package glmj.gguf;

import glmj.tensor.GGMLType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a GGUF v3 file (or a split set) from metadata and tensors. Keys keep the order of their first {@code put};
 * putting an existing key replaces its value in place. Tensor data are streamed from their segments when written,
 * so tensors of a {@link GGUFFile} must be written before that file is closed.
 */
public final class GGUFWriter {
    /** Bytes of tensor data written per chunk from a heap segment. */
    private static final int CHUNK = 1 << 20;

    private final LinkedHashMap<String, MetadataValue> values = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();

    /**
     * Makes a tensor's data while the file is written, for tensors produced on the fly (a converted checkpoint's)
     * rather than held in memory: {@code target} is the tensor's region of the output file, mapped, to be filled
     * completely.
     */
    @FunctionalInterface
    public interface TensorProducer {
        void fill(MemorySegment target) throws IOException;
    }

    /** A tensor whose bytes are {@code data}, or are made by {@code producer} when {@code data} is null. */
    private record Tensor(String name, GGMLType type, long[] shape, MemorySegment data, TensorProducer producer, long byteSize) {
    }

    /** A writer with the metadata (less the {@code split.*} keys) and tensors of {@code file}; tensors stay views. */
    public static GGUFWriter copyOf(GGUFFile file) {
        GGUFWriter writer = metadataOf(file);
        for (TensorInfo t : file.tensors()) {
            writer.addTensor(t.name(), t.type(), t.shape(), t.data());
        }
        return writer;
    }

    /** A writer with the metadata of {@code file}, less the {@code split.*} keys, and no tensors. */
    public static GGUFWriter metadataOf(GGUFFile file) {
        GGUFWriter writer = new GGUFWriter();
        for (Map.Entry<String, MetadataValue> e : file.metadata().entries().entrySet()) {
            if (!e.getKey().startsWith("split.")) {
                writer.values.put(e.getKey(), e.getValue());
            }
        }
        return writer;
    }

    /** The metadata put so far, as a reader will see it in the written file; problems are reported against {@code origin}. */
    public Metadata metadata(Path origin) {
        return new Metadata(origin, new LinkedHashMap<>(values));
    }

    /** The temporary sibling a file is written to before it is renamed to {@code target}, complete. */
    public static Path temporaryFile(Path target) {
        return target.resolveSibling(target.getFileName() + ".tmp");
    }

    /**
     * Sets a scalar. Integers may be given as the Java type of the GGUF type's width (Byte for u8/i8, ..., Long for
     * u64/i64; unsigned ones as raw bits, as {@link Metadata#get} returns them) or as any other integer box whose value
     * is in the type's range. Floats accept any Number; BOOL a Boolean; STRING a String.
     */
    public GGUFWriter put(String key, GGUFValueType type, Object value) {
        checkKey(key);
        MetadataValue v = new MetadataValue(type, null, scalar(key, type, value));
        if (key.equals(GGUFShard.ALIGNMENT_KEY)) {
            checkAlignment(v);
        }
        values.put(key, v);
        return this;
    }

    /**
     * Sets an array; {@code javaArray} is the array class {@link Metadata#get} returns for {@code elementType}
     * (byte[] for u8/i8, short[], int[], long[], float[], double[], boolean[], String[]). It is copied.
     */
    public GGUFWriter putArray(String key, GGUFValueType elementType, Object javaArray) {
        checkKey(key);
        if (key.equals(GGUFShard.ALIGNMENT_KEY)) {
            throw new IllegalArgumentException(GGUFShard.ALIGNMENT_KEY + " must be a u32, not an array");
        }
        values.put(key, new MetadataValue(GGUFValueType.ARRAY, elementType, array(key, elementType, javaArray)));
        return this;
    }

    public GGUFWriter putString(String key, String value) {
        return put(key, GGUFValueType.STRING, value);
    }

    /** Sets a u32 from its value, 0 to 2^32-1. */
    public GGUFWriter putUInt32(String key, long value) {
        return put(key, GGUFValueType.UINT32, value);
    }

    public GGUFWriter putInt32(String key, int value) {
        return put(key, GGUFValueType.INT32, value);
    }

    public GGUFWriter putFloat32(String key, float value) {
        return put(key, GGUFValueType.FLOAT32, value);
    }

    public GGUFWriter putBool(String key, boolean value) {
        return put(key, GGUFValueType.BOOL, value);
    }

    /** Sets a u64 from its raw bits (values above 2^63-1 are negative longs). */
    public GGUFWriter putUInt64(String key, long value) {
        return put(key, GGUFValueType.UINT64, value);
    }

    public GGUFWriter remove(String key) {
        values.remove(key);
        return this;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /**
     * Adds a tensor; {@code shape} is in ggml order (shape[0] is the row length) and {@code data} must hold exactly
     * {@code type.byteSize(elements)} bytes. The segment is read when the file is written.
     */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, MemorySegment data) {
        long expected = checkTensor(name, type, shape);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' " + type.ggmlName + " " + Arrays.toString(shape) + " needs "
                    + expected + " bytes of data, got " + data.byteSize());
        }
        tensors.put(name, new Tensor(name, type, shape.clone(), data, null, expected));
        return this;
    }

    /**
     * Adds a tensor whose {@code type.byteSize(elements)} bytes {@code producer} makes when the file is written, in
     * the order tensors were added; {@code shape} is in ggml order.
     */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, TensorProducer producer) {
        long bytes = checkTensor(name, type, shape);
        tensors.put(name, new Tensor(name, type, shape.clone(), null, producer, bytes));
        return this;
    }

    /** Checks a new tensor's name, shape and type, and returns the bytes its data take. */
    private long checkTensor(String name, GGMLType type, long[] shape) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a tensor name must not be empty");
        }
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > GGUFShard.MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' has " + nameBytes + " bytes, more than ggml's "
                    + GGUFShard.MAX_TENSOR_NAME_BYTES);
        }
        if (!type.hasGgufId()) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + type.ggmlName + ", which GGUF files cannot hold");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        if (shape.length < 1 || shape.length > GGUFShard.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + shape.length + " dimensions, expected 1 to "
                    + GGUFShard.MAX_DIMS);
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        if (shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' rows of " + shape[0] + " weights are not a whole number of "
                    + type.ggmlName + " blocks of " + type.blockSize);
        }
        return type.byteSize(count);
    }

    /** Removes the tensor named {@code name}, if there is one. */
    public GGUFWriter removeTensor(String name) {
        tensors.remove(name);
        return this;
    }

    /**
     * Writes one GGUF v3 file through its {@link #temporaryFile}, renamed when complete (so the target may be a file
     * that is mapped for reading, and an interrupted write leaves no file by the target's name).
     */
    public void write(Path file) throws IOException {
        writeShards(List.of(file), List.of(values), List.of(List.copyOf(tensors.values())));
    }

    /** Bytes {@link #write} writes: the header and every tensor's data, each padded to the alignment. */
    public long fileSize() {
        return fileSize(values, List.copyOf(tensors.values()));
    }

    /**
     * Writes the set {@code baseName-00001-of-0000N.gguf} ... into {@code directory} the way llama-gguf-split does:
     * at most {@code maxTensorsPerShard} tensors per shard, all metadata in shard 1, and in every shard
     * {@code split.no} (u16, 0-based), {@code split.count} (u16) and {@code split.tensors.count} (i32). Shards after the
     * first also carry {@code general.alignment} when it is set, so that every shard has the same alignment. The keys
     * are in llama-gguf-split's order, so a set of its is byte for byte this one. Every shard is written to its {@link #temporaryFile} and renamed only when all are complete.
     *
     * @return the shard files, in order
     */
    public List<Path> writeSplit(Path directory, String baseName, int maxTensorsPerShard) throws IOException {
        if (maxTensorsPerShard < 1) {
            throw new IllegalArgumentException("maxTensorsPerShard must be at least 1, got " + maxTensorsPerShard);
        }
        List<Tensor> all = List.copyOf(tensors.values());
        List<List<Tensor>> parts = new ArrayList<>();
        for (int from = 0; from < Math.max(1, all.size()); from += maxTensorsPerShard) {
            parts.add(all.subList(Math.min(all.size(), from), Math.min(all.size(), from + maxTensorsPerShard)));
        }
        return writeSplit(directory, baseName, parts);
    }

    /**
     * Writes the set as {@link #writeSplit(Path, String, int)} does, cut where llama-gguf-split's
     * {@code --split-max-size} cuts it: a new shard starts when the tensor data of the current one, each tensor
     * padded to the alignment, would grow beyond {@code maxShardBytes} (a single larger tensor gets a shard of its own).
     */
    public List<Path> writeSplitBySize(Path directory, String baseName, long maxShardBytes) throws IOException {
        return writeSplit(directory, baseName, partsBySize(maxShardBytes));
    }

    /** The size of each file {@link #writeSplitBySize} writes, in order. */
    public List<Long> shardSizes(long maxShardBytes) {
        List<List<Tensor>> parts = partsBySize(maxShardBytes);
        List<Long> sizes = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            sizes.add(fileSize(shardValues(i, parts.size()), parts.get(i)));
        }
        return sizes;
    }

    private List<List<Tensor>> partsBySize(long maxShardBytes) {
        if (maxShardBytes < 1) {
            throw new IllegalArgumentException("the largest shard must be at least 1 byte, got " + maxShardBytes);
        }
        long alignment = alignment(values);
        List<List<Tensor>> parts = new ArrayList<>();
        List<Tensor> part = new ArrayList<>();
        long partBytes = 0;
        for (Tensor t : tensors.values()) {
            long bytes = GGUFShard.alignUp(t.byteSize(), alignment);
            if (!part.isEmpty() && partBytes + bytes > maxShardBytes) {
                parts.add(part);
                part = new ArrayList<>();
                partBytes = 0;
            }
            part.add(t);
            partBytes += bytes;
        }
        parts.add(part);
        return parts;
    }

    private List<Path> writeSplit(Path directory, String baseName, List<List<Tensor>> parts) throws IOException {
        int count = parts.size();
        if (count > 0xFFFF) {
            throw new IllegalArgumentException(count + " shards is more than split.count (u16) can hold");
        }
        List<Path> paths = new ArrayList<>(count);
        List<Map<String, MetadataValue>> shardValues = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            paths.add(directory.resolve(SplitName.fileName(baseName, i + 1, count)));
            shardValues.add(shardValues(i, count));
        }
        writeShards(paths, shardValues, parts);
        return List.copyOf(paths);
    }

    /** Shard {@code index}'s keys: all metadata in the first, the alignment in the others, then the split keys. */
    private Map<String, MetadataValue> shardValues(int index, int count) {
        LinkedHashMap<String, MetadataValue> shard = new LinkedHashMap<>();
        for (Map.Entry<String, MetadataValue> e : values.entrySet()) {
            boolean splitKey = e.getKey().startsWith("split.");
            if (!splitKey && (index == 0 || e.getKey().equals(GGUFShard.ALIGNMENT_KEY))) {
                shard.put(e.getKey(), e.getValue());
            }
        }
        int tensorCount = tensors.size();
        // llama-gguf-split's order: split.count is set again once the count is known, which moves it last
        shard.put(GGUFFile.SPLIT_NO, new MetadataValue(GGUFValueType.UINT16, null, (short) index));
        shard.put(GGUFFile.SPLIT_TENSORS_COUNT, new MetadataValue(GGUFValueType.INT32, null, tensorCount));
        shard.put(GGUFFile.SPLIT_COUNT, new MetadataValue(GGUFValueType.UINT16, null, (short) count));
        return shard;
    }

    /** Writes each file to its temporary sibling, then renames them all; on failure no file is left. */
    private static void writeShards(List<Path> files, List<Map<String, MetadataValue>> shardValues, List<List<Tensor>> parts)
            throws IOException {
        List<Path> temporaries = files.stream().map(GGUFWriter::temporaryFile).toList();
        temporaries.forEach(temporary -> temporary.toFile().deleteOnExit()); // a write stopped by Ctrl-C leaves none behind
        try {
            for (int i = 0; i < files.size(); i++) {
                writeFile(temporaries.get(i), shardValues.get(i), parts.get(i));
            }
            for (int i = 0; i < files.size(); i++) {
                Files.move(temporaries.get(i), files.get(i), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            for (Path temporary : temporaries) {
                Files.deleteIfExists(temporary);
            }
        }
    }

    private static long alignment(Map<String, MetadataValue> values) {
        return values.containsKey(GGUFShard.ALIGNMENT_KEY)
                ? Integer.toUnsignedLong((Integer) values.get(GGUFShard.ALIGNMENT_KEY).value())
                : GGUFShard.DEFAULT_ALIGNMENT;
    }

    private static long fileSize(Map<String, MetadataValue> values, List<Tensor> tensors) {
        long alignment = alignment(values);
        long size = header(values, tensors, alignment).remaining();
        for (Tensor t : tensors) {
            size += GGUFShard.alignUp(t.byteSize(), alignment);
        }
        return size;
    }

    private static void writeFile(Path file, Map<String, MetadataValue> values, List<Tensor> tensors) throws IOException {
        long alignment = alignment(values);
        ByteBuffer header = header(values, tensors, alignment);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, header);
            ByteBuffer staging = null;
            for (Tensor t : tensors) {
                if (t.producer != null) {
                    produce(out, t);
                } else {
                    if (!t.data.isNative() && staging == null) {
                        staging = ByteBuffer.allocateDirect(CHUNK);
                    }
                    writeSegment(out, t.data, staging);
                }
                long padding = GGUFShard.alignUp(t.byteSize(), alignment) - t.byteSize();
                writeFully(out, ByteBuffer.allocate((int) padding));
            }
        }
    }

    /** The header: magic, version, counts, key-value pairs, tensor infos, zero padding up to the data section. */
    private static ByteBuffer header(Map<String, MetadataValue> values, List<Tensor> tensors, long alignment) {
        HeaderBuffer out = new HeaderBuffer();
        out.bytes(GGUFShard.MAGIC);
        out.i32(GGUFShard.VERSION);
        out.i64(tensors.size());
        out.i64(values.size());
        for (Map.Entry<String, MetadataValue> e : values.entrySet()) {
            out.string(e.getKey());
            MetadataValue v = e.getValue();
            out.i32(v.type().id);
            if (v.isArray()) {
                out.i32(v.elementType().id);
                out.i64(v.arrayLength());
                out.array(v.elementType(), v.value());
            } else {
                out.scalar(v.type(), v.value());
            }
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(t.name);
            out.i32(t.shape.length);
            for (long d : t.shape) {
                out.i64(d);
            }
            out.i32(t.type.id);
            out.i64(offset);
            offset += GGUFShard.alignUp(t.byteSize(), alignment);
        }
        out.zeros((int) (GGUFShard.alignUp(out.size(), alignment) - out.size()));
        return out.toByteBuffer();
    }

    /** Lets a tensor's producer fill its region of the file, mapped, and moves the channel past it. */
    private static void produce(FileChannel out, Tensor t) throws IOException {
        long start = out.position();
        if (t.byteSize > 0) {
            try (Arena arena = Arena.ofShared()) {
                t.producer.fill(out.map(FileChannel.MapMode.READ_WRITE, start, t.byteSize, arena));
            }
        }
        out.position(start + t.byteSize);
    }

    private static void writeSegment(FileChannel out, MemorySegment data, ByteBuffer staging) throws IOException {
        for (long position = 0; position < data.byteSize(); position += CHUNK) {
            long length = Math.min(CHUNK, data.byteSize() - position);
            MemorySegment chunk = data.asSlice(position, length);
            if (data.isNative()) {
                writeFully(out, chunk.asByteBuffer());
            } else {
                staging.clear().limit((int) length);
                MemorySegment.ofBuffer(staging).copyFrom(chunk);
                writeFully(out, staging);
            }
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    private static void checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a metadata key must not be empty");
        }
    }

    private static void checkAlignment(MetadataValue v) {
        if (v.type() != GGUFValueType.UINT32) {
            throw new IllegalArgumentException(GGUFShard.ALIGNMENT_KEY + " must be a u32, not " + v.typeName());
        }
        long alignment = Integer.toUnsignedLong((Integer) v.value());
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException(GGUFShard.ALIGNMENT_KEY + " must be a power of two, got " + alignment);
        }
    }

    private static Object scalar(String key, GGUFValueType type, Object value) {
        return switch (type) {
            case STRING -> require(key, type, value, String.class);
            case BOOL -> require(key, type, value, Boolean.class);
            case FLOAT32 -> require(key, type, value, Number.class).floatValue();
            case FLOAT64 -> require(key, type, value, Number.class).doubleValue();
            case ARRAY -> throw new IllegalArgumentException("key '" + key + "': use putArray for arrays");
            default -> integer(key, type, value);
        };
    }

    private static <T> T require(String key, GGUFValueType type, Object value, Class<T> javaClass) {
        if (!javaClass.isInstance(value)) {
            throw new IllegalArgumentException("key '" + key + "' of type " + type.ggufName + " needs a "
                    + javaClass.getSimpleName() + ", got " + (value == null ? "null" : value.getClass().getSimpleName()));
        }
        return javaClass.cast(value);
    }

    /** The integer boxed in the Java class of the type's width, raw bits for unsigned types. */
    private static Object integer(String key, GGUFValueType type, Object value) {
        if (!(value instanceof Byte || value instanceof Short || value instanceof Integer || value instanceof Long)) {
            throw new IllegalArgumentException("key '" + key + "' of type " + type.ggufName + " needs an integer, got "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
        boolean rawBits = switch (type) {
            case UINT8, INT8 -> value instanceof Byte;
            case UINT16, INT16 -> value instanceof Short;
            case UINT32, INT32 -> value instanceof Integer;
            default -> value instanceof Long;
        };
        if (rawBits) {
            return value;
        }
        long v = ((Number) value).longValue();
        long min = switch (type) {
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case INT64 -> Long.MIN_VALUE;
            default -> 0;
        };
        long max = switch (type) {
            case UINT8 -> 0xFFL;
            case INT8 -> Byte.MAX_VALUE;
            case UINT16 -> 0xFFFFL;
            case INT16 -> Short.MAX_VALUE;
            case UINT32 -> 0xFFFF_FFFFL;
            case INT32 -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
        if (v < min || v > max) {
            throw new IllegalArgumentException("key '" + key + "': " + v + " is out of the range of " + type.ggufName);
        }
        return switch (type) {
            case UINT8, INT8 -> (byte) v;
            case UINT16, INT16 -> (short) v;
            case UINT32, INT32 -> (int) v;
            default -> v;
        };
    }

    private static Object array(String key, GGUFValueType elementType, Object javaArray) {
        Class<?> expected = switch (elementType) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> throw new IllegalArgumentException("key '" + key + "': arrays of arrays are not supported");
        };
        if (!expected.isInstance(javaArray)) {
            throw new IllegalArgumentException("key '" + key + "' array of " + elementType.ggufName + " needs a "
                    + expected.getSimpleName() + ", got " + (javaArray == null ? "null" : javaArray.getClass().getSimpleName()));
        }
        Object copy = new MetadataValue(GGUFValueType.ARRAY, elementType, javaArray).copy();
        if (copy instanceof String[] strings && Arrays.asList(strings).contains(null)) {
            throw new IllegalArgumentException("key '" + key + "' array of strings contains null");
        }
        return copy;
    }

    /** A growing little-endian buffer for the header. */
    private static final class HeaderBuffer {
        private byte[] bytes = new byte[4096];
        private int size;

        int size() {
            return size;
        }

        private ByteBuffer room(long n) {
            if (size + n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("the GGUF header would exceed 2 GiB");
            }
            if (bytes.length - size < n) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * bytes.length, size + n)));
            }
            ByteBuffer view = ByteBuffer.wrap(bytes, size, (int) n).order(ByteOrder.LITTLE_ENDIAN);
            size += (int) n;
            return view;
        }

        void bytes(byte[] b) {
            room(b.length).put(b);
        }

        void zeros(int n) {
            room(n);
        }

        void i8(byte v) {
            room(1).put(v);
        }

        void i16(short v) {
            room(2).putShort(v);
        }

        void i32(int v) {
            room(4).putInt(v);
        }

        void i64(long v) {
            room(8).putLong(v);
        }

        void string(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            i64(utf8.length);
            bytes(utf8);
        }

        void scalar(GGUFValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> i8((Byte) v);
                case UINT16, INT16 -> i16((Short) v);
                case UINT32, INT32 -> i32((Integer) v);
                case UINT64, INT64 -> i64((Long) v);
                case FLOAT32 -> room(4).putFloat((Float) v);
                case FLOAT64 -> room(8).putDouble((Double) v);
                case BOOL -> i8((byte) ((Boolean) v ? 1 : 0));
                case STRING -> string((String) v);
                case ARRAY -> throw new IllegalStateException("arrays are written by array()");
            }
        }

        void array(GGUFValueType elementType, Object array) {
            switch (array) {
                case byte[] a -> bytes(a);
                case short[] a -> room(2L * a.length).asShortBuffer().put(a);
                case int[] a -> room(4L * a.length).asIntBuffer().put(a);
                case long[] a -> room(8L * a.length).asLongBuffer().put(a);
                case float[] a -> room(4L * a.length).asFloatBuffer().put(a);
                case double[] a -> room(8L * a.length).asDoubleBuffer().put(a);
                case boolean[] a -> {
                    ByteBuffer out = room(a.length);
                    for (boolean b : a) {
                        out.put((byte) (b ? 1 : 0));
                    }
                }
                case String[] a -> {
                    for (String s : a) {
                        string(s);
                    }
                }
                default -> throw new IllegalStateException("unexpected array " + array.getClass() + " for " + elementType);
            }
        }

        ByteBuffer toByteBuffer() {
            return ByteBuffer.wrap(bytes, 0, size);
        }
    }
}
