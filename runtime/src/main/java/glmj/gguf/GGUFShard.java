package glmj.gguf;

import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

import static glmj.gguf.GGUFFormatException.quote;

/** The parsed header of one GGUF file, with its tensors as views of the file's mapping. */
record GGUFShard(Path file, int version, Metadata metadata, List<TensorInfo> tensors, long alignment, long dataOffset) {

    static final byte[] MAGIC = {'G', 'G', 'U', 'F'};
    static final int VERSION = 3;
    static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    /** ggml's GGML_MAX_NAME: names are stored in a 64-byte field with a terminating zero. */
    static final int MAX_TENSOR_NAME_BYTES = 63;
    static final int MAX_DIMS = 4;

    /** Bytes of the smallest key-value pair: key length, a 1-byte key, type id, a 1-byte value. */
    private static final int MIN_KV_BYTES = 8 + 1 + 4 + 1;
    /** Bytes of the smallest tensor info: name length, a 1-byte name, n_dims, one dim, type id, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;

    /** Parses the header of {@code file}, whose whole content is {@code mapped}. */
    static GGUFShard parse(Path file, MemorySegment mapped) {
        SegmentReader in = new SegmentReader(file, mapped);
        checkMagic(in);
        int version = readVersion(in);

        long tensorCountAt = in.position();
        long tensorCount = in.i64("tensor count");
        long kvCountAt = in.position();
        long kvCount = in.i64("key-value count");
        int kvs = in.count(kvCount, MIN_KV_BYTES, "key-value count", kvCountAt);
        // tensors are checked against the bytes left after the key-value pairs, below

        LinkedHashMap<String, MetadataValue> values = new LinkedHashMap<>();
        for (int i = 0; i < kvs; i++) {
            readKeyValue(in, values);
        }
        Metadata metadata = new Metadata(file, values);
        long alignment = alignment(in, metadata);

        int tensors = in.count(tensorCount, MIN_TENSOR_INFO_BYTES, "tensor count", tensorCountAt);
        List<PendingTensor> infos = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < tensors; i++) {
            PendingTensor t = readTensorInfo(in);
            if (!names.add(t.name)) {
                throw in.errorAt("duplicate tensor name " + quote(t.name), t.infoOffset);
            }
            infos.add(t);
        }

        long dataOffset = alignUp(in.position(), alignment);
        if (tensors > 0 && dataOffset > in.size()) {
            throw in.error("truncated: the data section would start at byte " + dataOffset + " of a " + in.size() + "-byte file");
        }
        List<TensorInfo> result = new ArrayList<>(tensors);
        for (PendingTensor t : infos) {
            result.add(place(in, t, dataOffset, alignment, mapped, file));
        }
        checkLayout(in, infos, alignment);
        return new GGUFShard(file, version, metadata, List.copyOf(result), alignment, dataOffset);
    }

    /**
     * Checks that the tensors' data follow one another in the order of their infos, each padded to the alignment, as
     * llama.cpp's gguf reader requires (it refuses any other layout): so no two tensors share bytes, and a tensor whose
     * type or shape was changed is caught by the offset of the next.
     */
    private static void checkLayout(SegmentReader in, List<PendingTensor> infos, long alignment) {
        long expected = 0;
        for (int i = 0; i < infos.size(); i++) {
            PendingTensor t = infos.get(i);
            if (t.relativeOffset != expected) {
                throw in.errorAt(layoutProblem(infos, i, expected, alignment), t.offsetFieldOffset);
            }
            expected += alignUp(t.byteSize, alignment);
        }
    }

    private static String layoutProblem(List<PendingTensor> infos, int index, long expected, long alignment) {
        PendingTensor t = infos.get(index);
        String what = "tensor " + quote(t.name) + " data (" + t.byteSize + " bytes at offset " + t.relativeOffset + ")";
        if (index == 0) {
            return what + " does not start the data section: the first tensor's data must be at offset 0";
        }
        if (t.relativeOffset < expected) {
            for (PendingTensor earlier : infos.subList(0, index)) {
                if (t.relativeOffset < earlier.relativeOffset + alignUp(earlier.byteSize, alignment)
                        && earlier.relativeOffset < t.relativeOffset + Math.max(1, t.byteSize)) {
                    return what + " overlaps tensor " + describe(earlier);
                }
            }
            return what + " starts before the tensors listed before it end, at offset " + expected;
        }
        return what + " leaves a gap after tensor " + describe(infos.get(index - 1))
                + ": the next tensor's data must start at offset " + expected;
    }

    private static String describe(PendingTensor t) {
        return quote(t.name) + " (" + t.type.ggmlName + " " + Arrays.toString(t.shape) + ", " + t.byteSize
                + " bytes at offset " + t.relativeOffset + ")";
    }

    private static void checkMagic(SegmentReader in) {
        for (byte expected : MAGIC) {
            if (in.i8("magic") != expected) {
                throw in.errorAt("not a GGUF file (the magic is not 'GGUF')", 0);
            }
        }
    }

    private static int readVersion(SegmentReader in) {
        long at = in.position();
        int version = in.i32("version");
        if (version == 1) {
            throw in.errorAt("GGUF version 1 is no longer supported; convert the file with a current llama.cpp", at);
        }
        if (version != 0 && (version & 0xFFFF) == 0) {
            throw in.errorAt("GGUF version 0x" + Integer.toHexString(version)
                    + " looks byte-swapped; big-endian GGUF files are not supported", at);
        }
        if (version < 2 || version > VERSION) {
            throw in.errorAt("unsupported GGUF version " + Integer.toUnsignedString(version) + " (supported: 2 and 3)", at);
        }
        return version;
    }

    private static void readKeyValue(SegmentReader in, LinkedHashMap<String, MetadataValue> values) {
        long at = in.position();
        String key = in.string("key");
        if (key.isEmpty()) {
            throw in.errorAt("empty key", at);
        }
        if (values.containsKey(key)) {
            throw in.errorAt("duplicate key " + quote(key), at);
        }
        GGUFValueType type = valueType(in, key);
        MetadataValue value;
        if (type == GGUFValueType.ARRAY) {
            GGUFValueType elementType = valueType(in, key);
            if (elementType == GGUFValueType.ARRAY) {
                throw in.error("key " + quote(key) + " is an array of arrays, which GGUF readers do not support");
            }
            long countAt = in.position();
            long count = in.i64("array length of " + key);
            long minBytes = elementType == GGUFValueType.STRING ? 8 : elementType.size;
            int n = in.count(count, minBytes, "array length of key " + quote(key), countAt);
            value = new MetadataValue(GGUFValueType.ARRAY, elementType, readArray(in, elementType, n, key));
        } else {
            value = new MetadataValue(type, null, readScalar(in, type, key));
        }
        values.put(key, value);
    }

    private static GGUFValueType valueType(SegmentReader in, String key) {
        int id = in.i32("value type of " + key);
        GGUFValueType type = GGUFValueType.byId(id);
        if (type == null) {
            throw in.errorAt("key " + quote(key) + " has unknown value type id " + id, in.position() - 4);
        }
        return type;
    }

    private static Object readScalar(SegmentReader in, GGUFValueType type, String key) {
        return switch (type) {
            case UINT8, INT8 -> in.i8(key);
            case UINT16, INT16 -> in.i16(key);
            case UINT32, INT32 -> in.i32(key);
            case UINT64, INT64 -> in.i64(key);
            case FLOAT32 -> in.f32(key);
            case FLOAT64 -> in.f64(key);
            case BOOL -> in.i8(key) != 0;
            case STRING -> in.string("value of " + key);
            case ARRAY -> throw new IllegalStateException("arrays are read by readArray");
        };
    }

    private static Object readArray(SegmentReader in, GGUFValueType elementType, int n, String key) {
        return switch (elementType) {
            case UINT8, INT8 -> in.bytes(n);
            case UINT16, INT16 -> in.shorts(n);
            case UINT32, INT32 -> in.ints(n);
            case UINT64, INT64 -> in.longs(n);
            case FLOAT32 -> in.floats(n);
            case FLOAT64 -> in.doubles(n);
            case BOOL -> {
                byte[] raw = in.bytes(n);
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) {
                    out[i] = raw[i] != 0;
                }
                yield out;
            }
            case STRING -> {
                String[] out = new String[n];
                for (int i = 0; i < n; i++) {
                    out[i] = in.string("element " + i + " of " + key);
                }
                yield out;
            }
            case ARRAY -> throw new IllegalStateException("nested arrays are refused before reading");
        };
    }

    private static long alignment(SegmentReader in, Metadata metadata) {
        if (!metadata.has(ALIGNMENT_KEY)) {
            return DEFAULT_ALIGNMENT;
        }
        if (metadata.type(ALIGNMENT_KEY) != GGUFValueType.UINT32) {
            throw in.error("key '" + ALIGNMENT_KEY + "' is " + metadata.type(ALIGNMENT_KEY).ggufName + ", expected u32");
        }
        long alignment = metadata.getLong(ALIGNMENT_KEY);
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
            throw in.error("key '" + ALIGNMENT_KEY + "' is " + alignment + ", which is not a power of two");
        }
        return alignment;
    }

    /** A tensor info as read, before its data is located. */
    private record PendingTensor(String name, GGMLType type, long[] shape, long byteSize, long relativeOffset,
                                 long infoOffset, long offsetFieldOffset) {
    }

    private static PendingTensor readTensorInfo(SegmentReader in) {
        long at = in.position();
        String name = in.string("tensor name");
        long nameBytes = in.position() - at - 8;
        if (nameBytes > MAX_TENSOR_NAME_BYTES) {
            throw in.errorAt("tensor name " + quote(name) + " has " + nameBytes + " bytes, more than ggml's "
                    + MAX_TENSOR_NAME_BYTES, at);
        }
        int dims = in.i32("dimension count of " + name);
        if (dims < 1 || dims > MAX_DIMS) {
            throw in.errorAt("tensor " + quote(name) + " has " + Integer.toUnsignedString(dims)
                    + " dimensions, expected 1 to " + MAX_DIMS, in.position() - 4);
        }
        long[] shape = new long[dims];
        long count = 1;
        for (int d = 0; d < dims; d++) {
            shape[d] = in.i64("dimension " + d + " of " + name);
            if (shape[d] < 0) {
                throw in.errorAt("tensor " + quote(name) + " dimension " + d + " is negative: " + shape[d], in.position() - 8);
            }
            try {
                count = Math.multiplyExact(count, shape[d]);
            } catch (ArithmeticException overflow) {
                throw in.errorAt("tensor " + quote(name) + " has more than 2^63 elements", in.position() - 8);
            }
        }
        int typeId = in.i32("type of " + name);
        GGMLType type = GGMLType.byId(typeId);
        if (type == null) {
            throw in.errorAt("tensor " + quote(name) + " has unknown ggml type id " + typeId, in.position() - 4);
        }
        if (shape[0] % type.blockSize != 0) {
            throw in.errorAt("tensor " + quote(name) + " rows of " + shape[0] + " " + type.ggmlName
                    + " weights are not a whole number of " + type.blockSize + "-weight blocks", in.position() - 4);
        }
        long byteSize;
        try {
            byteSize = Math.multiplyExact(count / type.blockSize, (long) type.typeSize);
        } catch (ArithmeticException overflow) {
            throw in.errorAt("tensor " + quote(name) + " is larger than 2^63 bytes", in.position() - 4);
        }
        long offsetAt = in.position();
        long offset = in.i64("data offset of " + name);
        return new PendingTensor(name, type, shape, byteSize, offset, at, offsetAt);
    }

    private static TensorInfo place(SegmentReader in, PendingTensor t, long dataOffset, long alignment,
                                    MemorySegment mapped, Path file) {
        if (t.relativeOffset < 0 || t.relativeOffset % alignment != 0) {
            throw in.errorAt("tensor " + quote(t.name) + " data offset " + Long.toUnsignedString(t.relativeOffset)
                    + " is not a multiple of the alignment " + alignment, t.offsetFieldOffset);
        }
        long available = in.size() - dataOffset;
        if (t.relativeOffset > available || t.byteSize > available - t.relativeOffset) {
            throw in.errorAt("tensor " + quote(t.name) + " data (" + t.byteSize + " bytes at byte "
                    + (dataOffset + t.relativeOffset) + ") runs past the end of the " + in.size() + "-byte file",
                    t.offsetFieldOffset);
        }
        long fileOffset = dataOffset + t.relativeOffset;
        return new TensorInfo(t.name, t.type, t.shape, mapped.asSlice(fileOffset, t.byteSize), file, fileOffset);
    }

    static long alignUp(long offset, long alignment) {
        return (offset + alignment - 1) & -alignment;
    }
}
