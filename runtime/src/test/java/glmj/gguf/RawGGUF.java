package glmj.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-assembles GGUF bytes field by field, independently of {@link GGUFWriter}, to build malformed files. */
final class RawGGUF {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static RawGGUF header(int version, long tensorCount, long kvCount) {
        RawGGUF raw = new RawGGUF();
        raw.out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        return raw.u32(version).u64(tensorCount).u64(kvCount);
    }

    RawGGUF u8(int v) {
        out.write(v);
        return this;
    }

    RawGGUF u32(int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        return this;
    }

    RawGGUF u64(long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        return this;
    }

    RawGGUF str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.writeBytes(b);
        return this;
    }

    /** A key with a u32 value. */
    RawGGUF kvU32(String key, int value) {
        return str(key).u32(GGUFValueType.UINT32.id).u32(value);
    }

    /** A tensor info: name, dims, type id, data offset. */
    RawGGUF tensor(String name, long[] shape, int typeId, long offset) {
        str(name).u32(shape.length);
        for (long d : shape) {
            u64(d);
        }
        return u32(typeId).u64(offset);
    }

    /** Zero bytes up to a multiple of {@code alignment}, then {@code dataBytes} zero bytes. */
    RawGGUF data(int alignment, int dataBytes) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        out.writeBytes(new byte[dataBytes]);
        return this;
    }

    /**
     * Rewrites, in place, the type id ({@code typeId}, unless negative) and the data offset of tensor {@code name} in a
     * GGUF file, found by its name in the header.
     */
    static void patchTensor(Path file, String name, int typeId, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte[] field = ByteBuffer.allocate(8 + name.length()).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(name.length()).put(name.getBytes(StandardCharsets.UTF_8)).array();
        int at = indexOf(bytes, field) + field.length;
        int dims = buffer.getInt(at);
        int typeAt = at + 4 + 8 * dims;
        if (typeId >= 0) {
            buffer.putInt(typeAt, typeId);
        }
        buffer.putLong(typeAt + 4, offset);
        Files.write(file, bytes);
    }

    private static int indexOf(byte[] bytes, byte[] field) {
        for (int i = 0; i + field.length <= bytes.length; i++) {
            if (java.util.Arrays.equals(bytes, i, i + field.length, field, 0, field.length)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no such tensor name in the file");
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    Path writeTo(Path file) throws IOException {
        return Files.write(file, bytes());
    }
}
