package glmj.kernel;

import glmj.tensor.blocks.IQ4_NLBlock;
import glmj.tensor.blocks.IQTables;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q4_0Block;
import glmj.tensor.blocks.Q4_1Block;
import glmj.tensor.blocks.Q5_0Block;
import glmj.tensor.blocks.Q5_1Block;
import glmj.tensor.blocks.Q8_0Block;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.Lanes.B16;
import static glmj.kernel.Lanes.F;
import static glmj.kernel.Lanes.F16;
import static glmj.kernel.Lanes.I;
import static glmj.kernel.Lanes.I16;
import static glmj.kernel.Lanes.L;
import static glmj.kernel.Lanes.L16;
import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * Dot kernels for the 32-weight block types: per block d_w * d_a * integer sum with q8_0 activations, plus, for the
 * types with a minimum (Q4_1, Q5_1), m_w times the block's scaled sum of q8_1 activations, added after the blocks as
 * ggml adds it.
 */
public final class LegacyDots {
    private static final ByteVector[] IQ4_VALUES = Lanes.table16(IQTables.KVALUES_IQ4NL);
    private static final ByteVector EIGHTS = ByteVector.broadcast(B16, (byte) 8);
    private static final ByteVector SIXTEENS = ByteVector.broadcast(B16, (byte) 16);
    private static final ByteVector ZEROS = ByteVector.zero(B16);
    /** A field the block does not have. */
    private static final int NONE = -1;

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

    public static float q4_0(MemorySegment w, long offset, Activations a, int row) {
        return nibbleBlocks(w, offset, a, row, Q4_0Block.BYTES, NONE, NONE, Q4_0Block.QS_OFFSET, EIGHTS);
    }

    public static float q4_1(MemorySegment w, long offset, Activations a, int row) {
        return nibbleBlocks(w, offset, a, row, Q4_1Block.BYTES, Q4_1Block.M_OFFSET, NONE, Q4_1Block.QS_OFFSET, ZEROS);
    }

    public static float q5_0(MemorySegment w, long offset, Activations a, int row) {
        return nibbleBlocks(w, offset, a, row, Q5_0Block.BYTES, NONE, Q5_0Block.QH_OFFSET, Q5_0Block.QS_OFFSET, SIXTEENS);
    }

    public static float q5_1(MemorySegment w, long offset, Activations a, int row) {
        return nibbleBlocks(w, offset, a, row, Q5_1Block.BYTES, Q5_1Block.M_OFFSET, Q5_1Block.QH_OFFSET, Q5_1Block.QS_OFFSET, ZEROS);
    }

    /**
     * The Q4_0, Q4_1, Q5_0 and Q5_1 layouts: blocks that start with their f16 scale d, then (at {@code mOffset}, or
     * {@link #NONE}) an f16 minimum m, (at {@code qhOffset}, or none) 32 fifth bits, and at {@code qsOffset} 32
     * nibbles; a weight is d * (nibble | fifth bit << 4) - {@code bias} d, plus m.
     */
    private static float nibbleBlocks(MemorySegment w, long offset, Activations a, int row, int blockBytes, int mOffset,
                                      int qhOffset, int qsOffset, ByteVector bias) {
        int blocks = a.cols / 32;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F16);
        float minimums = 0;
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * blockBytes;
            int at = row * a.cols + 32 * b;
            if (mOffset != NONE) {
                minimums += LittleEndian.f16(w, block + mOffset) * a.scaledSums[at / 32];
            }
            int qh = qhOffset == NONE ? 0 : LittleEndian.i32(w, block + qhOffset);
            FloatVector scale = FloatVector.broadcast(F16, LittleEndian.f16(w, block) * a.scales[at / 32]);
            for (int p = 0; p < 32; p += L16) {
                ByteVector values = Lanes.nibbles16(w, block + qsOffset, p).lanewise(VectorOperators.OR, Lanes.fifthBits16(qh, p))
                        .lanewise(VectorOperators.SUB, bias);
                acc = ((FloatVector) Lanes.dot16(values, q, at + p).convert(VectorOperators.I2F, 0)).lanewise(FMA, scale, acc);
            }
        }
        return Lanes.sum16(acc) + minimums;
    }
}
