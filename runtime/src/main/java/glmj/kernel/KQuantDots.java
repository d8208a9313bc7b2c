package glmj.kernel;

import glmj.tensor.blocks.IQ4_XSBlock;
import glmj.tensor.blocks.IQTables;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q3_KBlock;
import glmj.tensor.blocks.Q4_KBlock;
import glmj.tensor.blocks.Q5_KBlock;
import glmj.tensor.blocks.Q6_KBlock;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.Lanes.I;
import static glmj.kernel.Lanes.I16;
import static glmj.kernel.Lanes.L;
import static glmj.kernel.Lanes.L16;
import static glmj.kernel.Lanes.byteOf;

/**
 * Dot kernels for the 256-weight super-block types, with q8_K activations. Per super-block: the integer sum over
 * sub-blocks of scale * (quants . activation quants), times d_w * d_a in float, less dmin_w * d_a * (mins . the
 * activations' 16-sums) for the types with mins.
 */
public final class KQuantDots {
    private static final ByteVector[] IQ4_VALUES = Lanes.table16(IQTables.KVALUES_IQ4NL);

    private KQuantDots() {
    }

    public static float q2_K(MemorySegment w, long offset, Activations a, int row) {
        float total = 0;
        for (int b = 0; b < a.cols / 256; b++) {
            total += q2_KBlock(w, offset + (long) b * Q2_KBlock.BYTES, a, row * a.cols + 256 * b);
        }
        return total;
    }

    /** One super-block, in a method of its own: small enough for C2 to keep every vector in registers. */
    private static float q2_KBlock(MemorySegment w, long block, Activations a, int at) {
        int minSum = Lanes.dotSixteen(Lanes.highNibbles16(w, block + Q2_KBlock.SCALES_OFFSET), a.sums16, at / 16);
        int sum = 0;
        for (int half = 0; half < 2; half++) {
            sum += q2_KHalf(w, block, a.quants, at, half); // one call site: inlined once, within C2's node budget
        }
        float d = a.scales[at / 256];
        return d * Q2_KBlock.d(w, block) * sum - d * Q2_KBlock.dmin(w, block) * minSum;
    }

    /**
     * The integer sum of half a Q2_K super-block (128 weights). Kernels are cut into methods this small on purpose:
     * C2 stops inlining a method's calls once it holds about 18000 nodes (NodeCountInliningCutoff), Vector API code
     * reaches that quickly, and vectors passed to a call it did not inline are boxed on the heap.
     */
    private static int q2_KHalf(MemorySegment w, long block, short[] q, int at, int half) {
        long scales = LittleEndian.i64(w, block + Q2_KBlock.SCALES_OFFSET + 8 * half);
        IntVector acc = IntVector.zero(I);
        for (int p = 0; p < 32; p += L) {
            ByteVector quants = Lanes.bytes(w, block + Q2_KBlock.QS_OFFSET + 32 * half + p);
            int first = at + 128 * half + p;
            // |q * a * scale| <= 3 * 127 * 15, so the four planes' products sum within 16 bits; a loop, not four
            // copies, keeps the method within C2's node budget
            ShortVector products = ShortVector.zero(Lanes.S);
            for (int plane = 0; plane < 4; plane++) {
                products = Lanes.scaledProducts(Lanes.bits(quants, 2 * plane, 3), q, first + 32 * plane,
                        Lanes.shortScales(p, byteOf(scales, 2 * plane) & 0xF, byteOf(scales, 2 * plane + 1) & 0xF)).add(products);
            }
            acc = Lanes.pairSums(products).add(acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    public static float q3_K(MemorySegment w, long offset, Activations a, int row) {
        float total = 0;
        for (int b = 0; b < a.cols / 256; b++) {
            total += q3_KBlock(w, offset + (long) b * Q3_KBlock.BYTES, a, row * a.cols + 256 * b);
        }
        return total;
    }

    /** One super-block, in a method of its own: small enough for C2 to keep every vector in registers. */
    private static float q3_KBlock(MemorySegment w, long block, Activations a, int at) {
        int sum = 0;
        for (int half = 0; half < 2; half++) {
            sum += q3_KHalf(w, block, a.quants, at, half);
        }
        return a.scales[at / 256] * Q3_KBlock.d(w, block) * sum;
    }

    /** The integer sum of half a Q3_K super-block; a method of its own for the reason {@link #q2_KHalf} gives. */
    private static int q3_KHalf(MemorySegment w, long block, short[] q, int at, int half) {
        long scales = Q3_KBlock.biasedScales(w, block, half);
        IntVector acc = IntVector.zero(I);
        for (int p = 0; p < 32; p += L) {
            ByteVector quants = Lanes.bytes(w, block + Q3_KBlock.QS_OFFSET + 32 * half + p);
            ByteVector highBits = Lanes.bytes(w, block + Q3_KBlock.HMASK_OFFSET + p);
            for (int j = 0; j < 4; j++) {
                // q - 4 when the high bit is clear: (q | bit << 2) - 4
                ByteVector values = Lanes.bits(quants, 2 * j, 3)
                        .or(Lanes.shiftLeft(Lanes.bits(highBits, 4 * half + j, 1), 2))
                        .sub((byte) 4);
                // |q * a * scale| <= 4 * 127 * 32 fits 16 bits
                acc = Lanes.pairSums(Lanes.scaledProducts(values, q, at + 128 * half + 32 * j + p,
                        Lanes.shortScales(p, byteOf(scales, 2 * j) - 32, byteOf(scales, 2 * j + 1) - 32))).add(acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    public static float q4_K(MemorySegment w, long offset, Activations a, int row) {
        float total = 0;
        for (int b = 0; b < a.cols / 256; b++) {
            total += q4_KBlock(w, offset + (long) b * Q4_KBlock.BYTES, a, row * a.cols + 256 * b);
        }
        return total;
    }

    /** One super-block, in a method of its own: small enough for C2 to keep every vector in registers. */
    private static float q4_KBlock(MemorySegment w, long block, Activations a, int at) {
        short[] q = a.quants;
        long scales = KQuantHeader.scales(w, block);
        // one accumulator only: vectors carried around a loop in more variables end up boxed on the heap
        IntVector acc = IntVector.zero(I);
        for (int j = 0; j < 4; j++) {
            for (int p = 0; p < 32; p += L) {
                ByteVector nibbles = Lanes.bytes(w, block + Q4_KBlock.QS_OFFSET + 32 * j + p);
                acc = Lanes.dot(Lanes.bits(nibbles, 0, 0x0F), q, at + 64 * j + p).mul(byteOf(scales, 2 * j)).add(acc)
                        .add(Lanes.dot(Lanes.bits(nibbles, 4, 0x0F), q, at + 64 * j + 32 + p).mul(byteOf(scales, 2 * j + 1)));
            }
        }
        float d = a.scales[at / 256];
        return d * KQuantHeader.d(w, block) * acc.reduceLanes(VectorOperators.ADD)
                - d * KQuantHeader.dmin(w, block) * minSum(w, block, a, at);
    }

    public static float q5_K(MemorySegment w, long offset, Activations a, int row) {
        float total = 0;
        for (int b = 0; b < a.cols / 256; b++) {
            total += q5_KBlock(w, offset + (long) b * Q5_KBlock.BYTES, a, row * a.cols + 256 * b);
        }
        return total;
    }

    /** One super-block, in a method of its own: small enough for C2 to keep every vector in registers. */
    private static float q5_KBlock(MemorySegment w, long block, Activations a, int at) {
        long scales = KQuantHeader.scales(w, block);
        int sum = 0;
        for (int sub = 0; sub < 8; sub++) {
            sum += byteOf(scales, sub) * q5_KSubBlock(w, block, a.quants, at, sub);
        }
        float d = a.scales[at / 256];
        return d * KQuantHeader.d(w, block) * sum - d * KQuantHeader.dmin(w, block) * minSum(w, block, a, at);
    }

    /**
     * The integer dot product of Q5_K sub-block {@code sub} (32 weights: a nibble of 32 bytes of qs, bit {@code sub}
     * of qh) with its activations; one sub-block per call for the reason {@link #q2_KHalf} gives.
     */
    private static int q5_KSubBlock(MemorySegment w, long block, short[] q, int at, int sub) {
        IntVector acc = IntVector.zero(I);
        for (int p = 0; p < 32; p += L) {
            ByteVector nibbles = Lanes.bits(Lanes.bytes(w, block + Q5_KBlock.QS_OFFSET + 32 * (sub >>> 1) + p), 4 * (sub & 1), 0x0F);
            ByteVector fifth = Lanes.bits(Lanes.bytes(w, block + Q5_KBlock.QH_OFFSET + p), sub, 1);
            ByteVector values = nibbles.or(Lanes.shiftLeft(fifth, 4));
            acc = Lanes.dot(values, q, at + 32 * sub + p).add(acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Q4_K / Q5_K: the mins dotted with the activations' sums over each 32-weight sub-block. */
    private static int minSum(MemorySegment w, long block, Activations a, int at) {
        long mins = KQuantHeader.mins(w, block);
        int sum = 0;
        for (int s = 0; s < 8; s++) {
            sum += byteOf(mins, s) * (a.sums16[at / 16 + 2 * s] + a.sums16[at / 16 + 2 * s + 1]);
        }
        return sum;
    }

    public static float q6_K(MemorySegment w, long offset, Activations a, int row) {
        float total = 0;
        for (int b = 0; b < a.cols / 256; b++) {
            total += q6_KBlock(w, offset + (long) b * Q6_KBlock.BYTES, a, row * a.cols + 256 * b);
        }
        return total;
    }

    /** One super-block, in a method of its own: small enough for C2 to keep every vector in registers. */
    private static float q6_KBlock(MemorySegment w, long block, Activations a, int at) {
        short[] q = a.quants;
        IntVector acc = IntVector.zero(I);
        for (int half = 0; half < 2; half++) {
            long scales = LittleEndian.i64(w, block + Q6_KBlock.SCALES_OFFSET + 8 * half);
            for (int p = 0; p < 32; p += L) {
                ByteVector highPairs = Lanes.bytes(w, block + Q6_KBlock.QH_OFFSET + 32 * half + p);
                for (int k = 0; k < 4; k++) {
                    ByteVector low = Lanes.bits(Lanes.bytes(w, block + Q6_KBlock.QL_OFFSET + 64 * half + 32 * (k & 1) + p),
                            4 * (k >>> 1), 0x0F);
                    ByteVector values = low.or(Lanes.shiftLeft(Lanes.bits(highPairs, 2 * k, 3), 4))
                            .sub((byte) 32);
                    IntVector products = Lanes.dot(values, q, at + 128 * half + 32 * k + p);
                    acc = products.mul(Lanes.sixteenScales(p, (byte) byteOf(scales, 2 * k), (byte) byteOf(scales, 2 * k + 1))).add(acc);
                }
            }
        }
        return a.scales[at / 256] * Q6_KBlock.d(w, block) * acc.reduceLanes(VectorOperators.ADD);
    }

    public static float iq4_xs(MemorySegment w, long offset, Activations a, int row) {
        float total = 0;
        for (int b = 0; b < a.cols / 256; b++) {
            total += iq4_xsBlock(w, offset + (long) b * IQ4_XSBlock.BYTES, a, row * a.cols + 256 * b);
        }
        return total;
    }

    /** One super-block, in a method of its own: small enough for C2 to keep every vector in registers. */
    private static float iq4_xsBlock(MemorySegment w, long block, Activations a, int at) {
        short[] q = a.quants;
        IntVector acc = IntVector.zero(I16);
        for (int g = 0; g < 8; g++) {
            int scale = IQ4_XSBlock.scale(w, block, g);
            for (int p = 0; p < 32; p += L16) {
                ByteVector values = Lanes.lookup16(Lanes.nibbles16(w, block + IQ4_XSBlock.QS_OFFSET + 16 * g, p), IQ4_VALUES);
                acc = Lanes.dot16(values, q, at + 32 * g + p).mul(scale).add(acc);
            }
        }
        return a.scales[at / 256] * IQ4_XSBlock.d(w, block) * acc.reduceLanes(VectorOperators.ADD);
    }
}
