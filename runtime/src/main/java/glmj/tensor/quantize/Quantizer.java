package glmj.tensor.quantize;

import glmj.tensor.GGMLType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Quantizers: float weights to ggml blocks, byte for byte what ggml's {@code ggml_quantize_chunk} (what
 * llama-quantize calls) writes, with or without an importance matrix. Without one that is the reference quantizer
 * ({@code from_float_ref}) for every type but IQ4_NL, whose chunk quantizer searches its scales. Each type's row
 * function is a column of its row in {@link GGMLType}, as in ggml's type traits.
 */
public final class Quantizer {

    private Quantizer() {
    }

    /** Whether {@link #quantize} supports {@code type}. */
    public static boolean canQuantize(GGMLType type) {
        return type.quantizer() != null;
    }

    /** Whether {@link #quantize} needs an importance matrix for {@code type}. */
    public static boolean requiresImportance(GGMLType type) {
        return type.quantizerNeedsImportance();
    }

    /**
     * Writes {@code count} weights of {@code src}, starting at {@code srcOffset}, as {@code type} blocks into
     * {@code dst} at {@code dstOffset}, without an importance matrix. {@code count} must be a whole number of blocks.
     */
    public static void quantize(GGMLType type, float[] src, int srcOffset, MemorySegment dst, long dstOffset, int count) {
        quantize(type, src, srcOffset, 1, count, null, dst, dstOffset);
    }

    /**
     * Writes {@code rows} rows of {@code perRow} weights of {@code src}, starting at {@code srcOffset}, as
     * {@code type} rows into {@code dst} at {@code dstOffset}, as {@code ggml_quantize_chunk} does:
     * {@code importance} ({@code perRow} floats, the same for every row; null when absent) weighs each column's
     * quantization error. {@code perRow} must be a whole number of blocks.
     */
    public static void quantize(GGMLType type, float[] src, int srcOffset, int rows, int perRow, float[] importance,
                                MemorySegment dst, long dstOffset) {
        RowQuantizer rowQuantizer = rowQuantizer(type);
        if (importance == null && requiresImportance(type)) {
            throw new IllegalArgumentException("quantizing to " + type.ggmlName + " needs an importance matrix");
        }
        long rowBytes = type.byteSize(perRow);
        long count = (long) rows * perRow;
        if (rows < 0 || perRow < 0 || srcOffset < 0 || srcOffset > src.length - count) {
            throw new IllegalArgumentException("cannot quantize " + rows + " rows of " + perRow + " weights from offset "
                    + srcOffset + " of a " + src.length + "-float array");
        }
        if (importance != null && importance.length != perRow) {
            throw new IllegalArgumentException("an importance matrix of " + importance.length
                    + " columns does not fit rows of " + perRow + " weights");
        }
        if (dstOffset < 0 || dstOffset > dst.byteSize() - rows * rowBytes) {
            throw new IllegalArgumentException(type.ggmlName + " data of " + rows * rowBytes + " bytes does not fit at offset "
                    + dstOffset + " of a " + dst.byteSize() + "-byte segment");
        }
        if (importance == null) {
            rowQuantizer.quantizeRow(src, srcOffset, dst, dstOffset, (int) (count / type.blockSize), null);
            return;
        }
        for (int row = 0; row < rows; row++) {
            rowQuantizer.quantizeRow(src, srcOffset + row * perRow, dst, dstOffset + row * rowBytes,
                    perRow / type.blockSize, importance);
        }
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
