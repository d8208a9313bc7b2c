package glmj.kernel;

import glmj.tensor.BlockScales;
import glmj.tensor.blocks.Fp8E4M3;
import glmj.tensor.blocks.LittleEndian;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.Lanes.F;
import static glmj.kernel.Lanes.I;
import static glmj.kernel.Lanes.LE;

/**
 * FP8 E4M3 weights with block scales decoded to f32 with vectors, each value exactly {@link Fp8E4M3#toFloat} times its
 * block's scale, multiplied in f32 (as PyTorch dequantizes, and llama.cpp's converter): the E4M3 bits placed in a
 * float's exponent and mantissa fields and rescaled by 2^120 (exact, the subnormals included), NaN where E4M3 has it.
 * The type table's row decoder for {@link glmj.tensor.GGMLType#FP8_E4M3}; its matmuls dot the decoded rows in
 * {@link FloatDots#f32}'s order, so a block-scaled FP8 weight multiplies exactly as its f32 dequantization does.
 */
public final class Fp8Rows {
    /** As many bytes as {@link Lanes#F} has lanes. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    /** 2^120: moves an E4M3 exponent, placed in a float's exponent field, to its value. */
    private static final FloatVector RESCALE = FloatVector.broadcast(F, 0x1p120f);
    /** E4M3's magnitude bits; all of them set are NaN. */
    private static final IntVector LOW_SEVEN = IntVector.broadcast(I, Fp8E4M3.NAN_BITS);
    /** A float's sign bit: that of the E4M3 byte once widened with its sign. */
    private static final IntVector SIGN = IntVector.broadcast(I, 0x8000_0000);
    private static final IntVector TWENTIES = IntVector.broadcast(I, 20);
    private static final IntVector NAN = IntVector.broadcast(I, Float.floatToRawIntBits(Fp8E4M3.toFloat(Fp8E4M3.NAN_BITS)));

    private Fp8Rows() {
    }

    /** The type table's {@link ScaledRowDecoder}: row {@code row}'s blocks, each run times its scale. */
    public static void decodeRow(MemorySegment w, long offset, BlockScales scales, int row, float[] dst, int at, int cols) {
        decode(w, offset, scales.data(), scales.rowOffset(row), scales.blockColumns(), 0, dst, at, cols);
    }

    /**
     * {@code dst[at..at+count) = } the E4M3 values at byte {@code offset} of {@code data}, columns {@code column} on of a
     * row whose blocks of {@code blockColumns} columns each have an f32 scale, the row's first at byte
     * {@code scaleOffset} of {@code scales}. One loop over the whole piece, its scale fetched per vector, where the
     * vectors fall within blocks; else block by block.
     */
    public static void decode(MemorySegment data, long offset, MemorySegment scales, long scaleOffset, int blockColumns,
                              long column, float[] dst, int at, int count) {
        if (blockColumns % F.length() != 0 || column % F.length() != 0) {
            for (int i = 0; i < count; ) {
                long block = (column + i) / blockColumns;
                int n = (int) Math.min(count - i, (block + 1) * blockColumns - column - i);
                decode(data, offset + i, LittleEndian.f32(scales, scaleOffset + block * Float.BYTES), dst, at + i, n);
                i += n;
            }
            return;
        }
        int i = 0;
        for (int end = count - F.length(); i <= end; i += F.length()) {
            float scale = LittleEndian.f32(scales, scaleOffset + (column + i) / blockColumns * Float.BYTES);
            unscaled(data, offset + i).lanewise(VectorOperators.MUL, scale).intoArray(dst, at + i);
        }
        for (; i < count; i++) {
            float scale = LittleEndian.f32(scales, scaleOffset + (column + i) / blockColumns * Float.BYTES);
            dst[at + i] = Fp8E4M3.toFloat(LittleEndian.u8(data, offset + i)) * scale;
        }
    }

    /** {@code dst[at..at+count) = } the E4M3 values at byte {@code offset} of {@code data}, each times {@code scale} in f32. */
    public static void decode(MemorySegment data, long offset, float scale, float[] dst, int at, int count) {
        FloatVector scales = FloatVector.broadcast(F, scale);
        int i = 0;
        for (int end = count - F.length(); i <= end; i += F.length()) {
            unscaled(data, offset + i).lanewise(VectorOperators.MUL, scales).intoArray(dst, at + i);
        }
        for (; i < count; i++) {
            dst[at + i] = Fp8E4M3.toFloat(LittleEndian.u8(data, offset + i)) * scale;
        }
    }

    /** The E4M3 values of a vector's worth of bytes at {@code offset}, exactly. */
    private static FloatVector unscaled(MemorySegment data, long offset) {
        IntVector bytes = (IntVector) ByteVector.fromMemorySegment(B, data, offset, LE).convertShape(VectorOperators.B2I, I, 0);
        IntVector magnitude = bytes.lanewise(VectorOperators.AND, LOW_SEVEN);
        FloatVector unsigned = ((FloatVector) magnitude.lanewise(VectorOperators.LSHL, TWENTIES).reinterpretShape(F, 0))
                .lanewise(VectorOperators.MUL, RESCALE);
        VectorMask<Integer> nan = magnitude.compare(VectorOperators.EQ, LOW_SEVEN);
        IntVector bits = ((IntVector) unsigned.reinterpretShape(I, 0)).blend(NAN, nan)
                .lanewise(VectorOperators.OR, bytes.lanewise(VectorOperators.AND, SIGN));
        return (FloatVector) bits.reinterpretShape(F, 0);
    }
}
