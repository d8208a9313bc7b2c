package glmj.tensor.quantize;

import glmj.tensor.blocks.LittleEndian;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Scalar stores into block memory, in the little-endian order of {@link LittleEndian}. */
final class BlockIo {

    private BlockIo() {
    }

    static void putByte(MemorySegment segment, long offset, int value) {
        segment.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    static void putShort(MemorySegment segment, long offset, short value) {
        segment.set(LittleEndian.SHORT, offset, value);
    }

    static void putInt(MemorySegment segment, long offset, int value) {
        segment.set(LittleEndian.INT, offset, value);
    }

    /** Zeroes {@code bytes} bytes from {@code offset}, without the slice a {@code fill} would need. */
    static void putZeros(MemorySegment segment, long offset, int bytes) {
        for (int i = 0; i < bytes; i++) {
            segment.set(ValueLayout.JAVA_BYTE, offset + i, (byte) 0);
        }
    }

    static void putLong(MemorySegment segment, long offset, long value) {
        segment.set(LittleEndian.LONG, offset, value);
    }

    static void putFloat(MemorySegment segment, long offset, float value) {
        segment.set(LittleEndian.FLOAT, offset, value);
    }
}
