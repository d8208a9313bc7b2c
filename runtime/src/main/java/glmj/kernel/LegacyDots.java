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
import static glmj.kernel.Lanes.I;
import static glmj.kernel.Lanes.I16;
import static glmj.kernel.Lanes.L;
import static glmj.kernel.Lanes.L16;

/** Dot kernels for the 32-weight block types, with q8_0 activations: per block, d_w * d_a * integer sum. */
final class LegacyDots {
    private static final ByteVector[] IQ4_VALUES = Lanes.table16(IQTables.KVALUES_IQ4NL);

    private LegacyDots() {
    }

    static float q8_0(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 32;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * Q8_0Block.BYTES;
            int at = row * a.cols + 32 * b;
            IntVector sum = IntVector.zero(I);
            for (int p = 0; p < 32; p += L) {
                sum = sum.add(Lanes.dot(Lanes.bytes(w, block + Q8_0Block.QS_OFFSET + p), q, at + p));
            }
            float scale = Q8_0Block.d(w, block) * a.scales[at / 32];
            acc = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, scale), acc);
        }
        return Lanes.sum(acc);
    }

    static float iq4_nl(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 32;
        short[] q = a.quants;
        float total = 0;
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ4_NLBlock.BYTES;
            int at = row * a.cols + 32 * b;
            IntVector sum = IntVector.zero(I16);
            for (int p = 0; p < 32; p += L16) {
                ByteVector values = Lanes.lookup16(Lanes.nibbles16(w, block + IQ4_NLBlock.QS_OFFSET, p), IQ4_VALUES);
                sum = sum.add(Lanes.dot16(values, q, at + p));
            }
            total += IQ4_NLBlock.d(w, block) * a.scales[at / 32] * sum.reduceLanes(VectorOperators.ADD);
        }
        return total;
    }
}
