package glmj.tensor.quantize;

import glmj.tensor.GGMLType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Reference quantizers: float weights to ggml blocks, byte for byte what ggml's {@code from_float_ref} type trait
 * ({@code quantize_row_*_ref}, no importance matrix) writes. Each type's row function is a column of its row in
 * {@link GGMLType}, as in ggml's type traits.
 */
public final class Quantizer {

    private Quantizer() {
    }

    /** Whether {@link #quantize} supports {@code type}. */
    public static boolean canQuantize(GGMLType type) {
        return type.quantizer() != null;
    }

    /**
     * Writes {@code count} weights of {@code src}, starting at {@code srcOffset}, as {@code type} blocks into
     * {@code dst} at {@code dstOffset}. {@code count} must be a whole number of blocks.
     */
    public static void quantize(GGMLType type, float[] src, int srcOffset, MemorySegment dst, long dstOffset, int count) {
        RowQuantizer rowQuantizer = rowQuantizer(type);
        long bytes = type.byteSize(count);
        if (srcOffset < 0 || count < 0 || srcOffset > src.length - count) {
            throw new IllegalArgumentException("cannot quantize " + count + " weights from offset " + srcOffset
                    + " of a " + src.length + "-float array");
        }
        if (dstOffset < 0 || dstOffset > dst.byteSize() - bytes) {
            throw new IllegalArgumentException(type.ggmlName + " data of " + bytes + " bytes does not fit at offset "
                    + dstOffset + " of a " + dst.byteSize() + "-byte segment");
        }
        rowQuantizer.quantizeRow(src, srcOffset, dst, dstOffset, count / type.blockSize);
    }

    /** {@code src} quantized to {@code type}, in a new segment of {@code arena}. */
    public static MemorySegment quantize(GGMLType type, float[] src, Arena arena) {
        rowQuantizer(type);
        MemorySegment dst = arena.allocate(type.byteSize(src.length), 8);
        quantize(type, src, 0, dst, 0, src.length);
        return dst;
    }

    private static RowQuantizer rowQuantizer(GGMLType type) {
        RowQuantizer rowQuantizer = type.quantizer();
        if (rowQuantizer == null) {
            throw new UnsupportedOperationException("no quantizer for type " + type.ggmlName);
        }
        return rowQuantizer;
    }
}
