package glmj.kernel;

import glmj.tensor.blocks.IQ4_NLBlock;
import glmj.tensor.blocks.IQTables;
import glmj.tensor.blocks.Q8_0Block;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.Lanes.F;
import static glmj.kernel.Lanes.F16;
import static glmj.kernel.Lanes.I;
import static glmj.kernel.Lanes.I16;
import static glmj.kernel.Lanes.L;
import static glmj.kernel.Lanes.L16;
import static jdk.incubator.vector.VectorOperators.FMA;

/** Dot kernels for the 32-weight block types, with q8_0 activations: per block, d_w * d_a * integer sum. */
public final class LegacyDots {
    private static final ByteVector[] IQ4_VALUES = Lanes.table16(IQTables.KVALUES_IQ4NL);

    private LegacyDots() {
    }

    public static float q8_0(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 32;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * Q8_0Block.BYTES;
            int at = row * a.cols + 32 * b;
            FloatVector scale = FloatVector.broadcast(F, Q8_0Block.d(w, block) * a.scales[at / 32]);
            for (int p = 0; p < 32; p += L) {
                IntVector sums = Lanes.dot(Lanes.bytes(w, block + Q8_0Block.QS_OFFSET + p), q, at + p);
                acc = ((FloatVector) sums.convert(VectorOperators.I2F, 0)).lanewise(FMA, scale, acc);
            }
        }
        return Lanes.sum(acc);
    }

    public static float iq4_nl(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 32;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F16);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ4_NLBlock.BYTES;
            int at = row * a.cols + 32 * b;
            FloatVector scale = FloatVector.broadcast(F16, IQ4_NLBlock.d(w, block) * a.scales[at / 32]);
            for (int p = 0; p < 32; p += L16) {
                ByteVector values = Lanes.lookup16(Lanes.nibbles16(w, block + IQ4_NLBlock.QS_OFFSET, p), IQ4_VALUES);
                acc = ((FloatVector) Lanes.dot16(values, q, at + p).convert(VectorOperators.I2F, 0)).lanewise(FMA, scale, acc);
            }
        }
        return Lanes.sum16(acc);
    }
}
