package glmj.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian scalar stores into block memory. */
final class BlockIo {

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BlockIo() {
    }

    static void putByte(MemorySegment segment, long offset, int value) {
        segment.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    static void putShort(MemorySegment segment, long offset, short value) {
        segment.set(SHORT, offset, value);
    }

    static void putInt(MemorySegment segment, long offset, int value) {
        segment.set(INT, offset, value);
    }

    static void putFloat(MemorySegment segment, long offset, float value) {
        segment.set(FLOAT, offset, value);
    }
}
