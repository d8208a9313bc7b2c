package glmj.hf;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.Fp8E4M3;
import glmj.tensor.blocks.LittleEndian;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Runs of stored elements widened to f32, with vectors where a run is long enough, giving exactly the values of
 * {@link SafetensorsDtype#get}: BF16 by a shift, E4M3 by placing its bits in a float and rescaling by 2^120 (exact, the
 * subnormals included), then multiplied by the block's scale in f32 as PyTorch does.
 */
final class FloatRuns {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** As many bytes as {@link #F} has lanes. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    /** As many shorts as {@link #F} has lanes. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 2^120: moves an E4M3 exponent, placed in a float's exponent field, to its value. */
    private static final float E4M3_RESCALE = 0x1p120f;
    private static final int E4M3_NAN_FLOAT_BITS = Float.floatToRawIntBits(Fp8E4M3.toFloat(Fp8E4M3.NAN_BITS));

    private FloatRuns() {
    }

    /** {@code dst[at..at+count) = } the F32 values at byte {@code offset} of {@code data}. */
    static void f32(MemorySegment data, long offset, float[] dst, int at, int count) {
        MemorySegment.copy(data, LittleEndian.FLOAT, offset, dst, at, count);
    }

    /** The F16 values at byte {@code offset}, widened exactly (IEEE, as PyTorch and numpy do). */
    static void f16(MemorySegment data, long offset, float[] dst, int at, int count) {
        for (int i = 0; i < count; i++) {
            dst[at + i] = Float.float16ToFloat((short) LittleEndian.u16(data, offset + 2L * i));
        }
    }

    /** The BF16 values at byte {@code offset}: each the upper half of its float. */
    static void bf16(MemorySegment data, long offset, float[] dst, int at, int count) {
        int i = 0;
        for (int end = count - F.length(); i <= end; i += F.length()) {
            ShortVector halves = ShortVector.fromMemorySegment(S, data, offset + 2L * i, LE);
            IntVector bits = ((IntVector) halves.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16);
            bits.reinterpretAsFloats().intoArray(dst, at + i);
        }
        for (; i < count; i++) {
            dst[at + i] = FloatFormats.bf16ToF32(LittleEndian.u16(data, offset + 2L * i));
        }
    }

    /** The E4M3 values at byte {@code offset}, each times {@code scale} in f32. */
    static void e4m3(MemorySegment data, long offset, float scale, float[] dst, int at, int count) {
        int i = 0;
        for (int end = count - F.length(); i <= end; i += F.length()) {
            IntVector bytes = (IntVector) ByteVector.fromMemorySegment(B, data, offset + i, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector magnitude = bytes.lanewise(VectorOperators.AND, 0x7F);
            FloatVector unsigned = magnitude.lanewise(VectorOperators.LSHL, 20).reinterpretAsFloats().mul(E4M3_RESCALE);
            VectorMask<Integer> nan = magnitude.compare(VectorOperators.EQ, Fp8E4M3.NAN_BITS);
            IntVector bits = unsigned.reinterpretAsInts().blend(E4M3_NAN_FLOAT_BITS, nan)
                    .or(bytes.lanewise(VectorOperators.AND, 0x80).lanewise(VectorOperators.LSHL, 24));
            bits.reinterpretAsFloats().mul(scale).intoArray(dst, at + i);
        }
        for (; i < count; i++) {
            dst[at + i] = Fp8E4M3.toFloat(LittleEndian.u8(data, offset + i)) * scale;
        }
    }
}
