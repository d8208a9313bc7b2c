package glmj.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads little-endian GGUF header fields from a mapped file. Every read is checked against the bytes that remain,
 * and every count is checked before anything is allocated for it, so a hostile file ends in a
 * {@link GGUFFormatException} at the offending byte.
 */
final class SegmentReader {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Java arrays cannot be longer than this. */
    private static final long MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;

    private final Path file;
    private final MemorySegment segment;
    private long position;

    SegmentReader(Path file, MemorySegment segment) {
        this.file = file;
        this.segment = segment;
    }

    long position() {
        return position;
    }

    long size() {
        return segment.byteSize();
    }

    long remaining() {
        return segment.byteSize() - position;
    }

    GGUFFormatException error(String what) {
        return new GGUFFormatException(file, what, position);
    }

    GGUFFormatException errorAt(String what, long offset) {
        return new GGUFFormatException(file, what, offset);
    }

    private void need(long bytes, String what) {
        if (bytes > remaining()) {
            throw error("truncated: " + what + " needs " + bytes + " bytes, " + remaining() + " remain");
        }
    }

    byte i8(String what) {
        need(1, what);
        return segment.get(ValueLayout.JAVA_BYTE, position++);
    }

    short i16(String what) {
        need(2, what);
        short v = segment.get(I16, position);
        position += 2;
        return v;
    }

    int i32(String what) {
        need(4, what);
        int v = segment.get(I32, position);
        position += 4;
        return v;
    }

    long i64(String what) {
        need(8, what);
        long v = segment.get(I64, position);
        position += 8;
        return v;
    }

    float f32(String what) {
        need(4, what);
        float v = segment.get(F32, position);
        position += 4;
        return v;
    }

    double f64(String what) {
        need(8, what);
        double v = segment.get(F64, position);
        position += 8;
        return v;
    }

    /** A u64 length followed by that many UTF-8 bytes. */
    String string(String what) {
        long start = position;
        long length = i64(what + " length");
        if (length < 0 || length > remaining()) {
            throw errorAt(what + " length " + Long.toUnsignedString(length) + " exceeds the " + remaining()
                    + " bytes left in the file", start);
        }
        if (length > MAX_JAVA_ARRAY) {
            throw errorAt(what + " length " + length + " is too large", start);
        }
        if (length == 0) {
            return "";
        }
        byte[] bytes = new byte[(int) length];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, position, bytes, 0, bytes.length);
        position += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * Checks an element count read at {@code countOffset}: elements of at least {@code minBytesEach} bytes must fit in
     * the rest of the file and in a Java array.
     */
    int count(long count, long minBytesEach, String what, long countOffset) {
        if (count < 0 || count > remaining() / minBytesEach) {
            throw errorAt(what + " " + Long.toUnsignedString(count) + " cannot fit in the " + remaining()
                    + " bytes left in the file", countOffset);
        }
        if (count > MAX_JAVA_ARRAY) {
            throw errorAt(what + " " + count + " is too large", countOffset);
        }
        return (int) count;
    }

    /** Copies {@code count} elements into a fresh array; the count was checked with {@link #count}. */
    byte[] bytes(int count) {
        byte[] out = new byte[count];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, position, out, 0, count);
        position += count;
        return out;
    }

    short[] shorts(int count) {
        short[] out = new short[count];
        MemorySegment.copy(segment, I16, position, out, 0, count);
        position += 2L * count;
        return out;
    }

    int[] ints(int count) {
        int[] out = new int[count];
        MemorySegment.copy(segment, I32, position, out, 0, count);
        position += 4L * count;
        return out;
    }

    long[] longs(int count) {
        long[] out = new long[count];
        MemorySegment.copy(segment, I64, position, out, 0, count);
        position += 8L * count;
        return out;
    }

    float[] floats(int count) {
        float[] out = new float[count];
        MemorySegment.copy(segment, F32, position, out, 0, count);
        position += 4L * count;
        return out;
    }

    double[] doubles(int count) {
        double[] out = new double[count];
        MemorySegment.copy(segment, F64, position, out, 0, count);
        position += 8L * count;
        return out;
    }
}
