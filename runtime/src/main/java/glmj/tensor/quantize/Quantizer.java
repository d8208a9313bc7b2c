package glmj.tensor.quantize;

import glmj.tensor.GGMLType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Quantizers: float weights to ggml blocks, byte for byte what ggml's {@code ggml_quantize_chunk} (what
 * llama-quantize calls) writes, with or without an importance matrix. Without one that is the reference quantizer
 * ({@code from_float_ref}) for every type but IQ4_NL, whose chunk quantizer searches its scales. One row function
 * per type, looked up in a table like ggml's type traits.
 */
public final class Quantizer {

    /**
     * Quantizes {@code blocks} consecutive blocks of {@code src} from {@code srcOffset} into {@code dst}. With
     * {@code importance} (null when absent) the blocks are exactly one row and {@code importance[i]} weighs its
     * column i.
     */
    @FunctionalInterface
    interface RowQuantizer {
        void quantizeRow(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int blocks, float[] importance);
    }

    private static final Map<GGMLType, RowQuantizer> ROW_QUANTIZERS = new EnumMap<>(GGMLType.class);

    static {
        ROW_QUANTIZERS.put(GGMLType.F16, FloatConverters::toF16);
        ROW_QUANTIZERS.put(GGMLType.BF16, FloatConverters::toBF16);
        ROW_QUANTIZERS.put(GGMLType.Q4_0, LegacyQuantizers::q4_0);
        ROW_QUANTIZERS.put(GGMLType.Q4_1, LegacyQuantizers::q4_1);
        ROW_QUANTIZERS.put(GGMLType.Q5_0, LegacyQuantizers::q5_0);
        ROW_QUANTIZERS.put(GGMLType.Q5_1, LegacyQuantizers::q5_1);
        ROW_QUANTIZERS.put(GGMLType.Q8_0, LegacyQuantizers::q8_0);
        ROW_QUANTIZERS.put(GGMLType.Q2_K, KQuantizers::q2_K);
        ROW_QUANTIZERS.put(GGMLType.Q3_K, KQuantizers::q3_K);
        ROW_QUANTIZERS.put(GGMLType.Q4_K, KQuantizers::q4_K);
        ROW_QUANTIZERS.put(GGMLType.Q5_K, KQuantizers::q5_K);
        ROW_QUANTIZERS.put(GGMLType.Q6_K, KQuantizers::q6_K);
        ROW_QUANTIZERS.put(GGMLType.Q8_K, KQuantizers::q8_K);
        ROW_QUANTIZERS.put(GGMLType.IQ4_NL, NonLinearQuantizers::iq4_nl);
        ROW_QUANTIZERS.put(GGMLType.IQ4_XS, NonLinearQuantizers::iq4_xs);
        ROW_QUANTIZERS.put(GGMLType.IQ1_S, IQ1Quantizers::iq1_s);
        ROW_QUANTIZERS.put(GGMLType.IQ1_M, IQ1Quantizers::iq1_m);
        ROW_QUANTIZERS.put(GGMLType.IQ2_XXS, IQ2Quantizers::iq2_xxs);
        ROW_QUANTIZERS.put(GGMLType.IQ2_XS, IQ2Quantizers::iq2_xs);
        ROW_QUANTIZERS.put(GGMLType.IQ2_S, IQ2Quantizers::iq2_s);
        ROW_QUANTIZERS.put(GGMLType.IQ3_XXS, IQ3Quantizers::iq3_xxs);
        ROW_QUANTIZERS.put(GGMLType.IQ3_S, IQ3Quantizers::iq3_s);
    }

    /** The types whose quantizers need an importance matrix, as {@code ggml_quantize_requires_imatrix} says. */
    private static final Set<GGMLType> NEED_IMPORTANCE = EnumSet.of(GGMLType.IQ2_XXS, GGMLType.IQ2_XS, GGMLType.IQ1_S);

    private Quantizer() {
    }

    /** Whether {@link #quantize} supports {@code type}. */
    public static boolean canQuantize(GGMLType type) {
        return ROW_QUANTIZERS.containsKey(type);
    }

    /** Whether {@link #quantize} needs an importance matrix for {@code type}. */
    public static boolean requiresImportance(GGMLType type) {
        return NEED_IMPORTANCE.contains(type);
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
        RowQuantizer rowQuantizer = ROW_QUANTIZERS.get(type);
        if (rowQuantizer == null) {
            throw new UnsupportedOperationException("no quantizer for type " + type.ggmlName);
        }
        return rowQuantizer;
    }
}
