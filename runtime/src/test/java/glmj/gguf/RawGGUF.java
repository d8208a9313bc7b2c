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

    byte[] bytes() {
        return out.toByteArray();
    }

    Path writeTo(Path file) throws IOException {
        return Files.write(file, bytes());
    }
}
