package glmj.tensor.quantize;

import glmj.tensor.GGMLType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * Reference quantizers: float weights to ggml blocks, byte for byte what ggml's {@code from_float_ref} type trait
 * ({@code quantize_row_*_ref}, no importance matrix) writes. One row function per type, looked up in a table like
 * ggml's type traits.
 */
public final class Quantizer {

    /** Quantizes {@code blocks} consecutive blocks of {@code src} from {@code srcOffset} into {@code dst}. */
    @FunctionalInterface
    interface RowQuantizer {
        void quantizeRow(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int blocks);
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
    }

    private Quantizer() {
    }

    /** Whether {@link #quantize} supports {@code type}. */
    public static boolean canQuantize(GGMLType type) {
        return ROW_QUANTIZERS.containsKey(type);
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
        RowQuantizer rowQuantizer = ROW_QUANTIZERS.get(type);
        if (rowQuantizer == null) {
            throw new UnsupportedOperationException("no quantizer for type " + type.ggmlName);
        }
        return rowQuantizer;
    }
}
