package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Unaligned little-endian field access, the byte order of every GGUF block whatever the host. */
public final class LittleEndian {
    public static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LittleEndian() {
    }

    public static int u8(MemorySegment seg, long offset) {
        return seg.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    public static int i8(MemorySegment seg, long offset) {
        return seg.get(ValueLayout.JAVA_BYTE, offset);
    }

    public static int i16(MemorySegment seg, long offset) {
        return seg.get(SHORT, offset);
    }

    public static int u16(MemorySegment seg, long offset) {
        return seg.get(SHORT, offset) & 0xFFFF;
    }

    public static int i32(MemorySegment seg, long offset) {
        return seg.get(INT, offset);
    }

    public static long i64(MemorySegment seg, long offset) {
        return seg.get(LONG, offset);
    }

    public static float f32(MemorySegment seg, long offset) {
        return seg.get(FLOAT, offset);
    }

    /** An IEEE half stored at {@code offset}, widened as ggml does. */
    public static float f16(MemorySegment seg, long offset) {
        return FloatFormats.f16ToF32(u16(seg, offset));
    }
}
