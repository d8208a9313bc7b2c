package glmj.hf;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.LittleEndian;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Runs of stored elements widened to f32, with vectors where a run is long enough, giving exactly the values of
 * {@link SafetensorsDtype#get}: BF16 by a shift. (E4M3 weights are decoded as the engine decodes them,
 * {@link glmj.kernel.Fp8Rows}.)
 */
final class FloatRuns {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** As many shorts as {@link #F} has lanes. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

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
}
