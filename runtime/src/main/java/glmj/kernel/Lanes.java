package glmj.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The vector shapes the kernels compute in, and the integer dot product they share. The integer kernels multiply
 * 8-bit weights by 8-bit activations in 16-bit lanes ({@link #S}, the machine's preferred width: 512 bits on AVX-512,
 * 128 on Apple silicon), loading weight bytes at half that width ({@link #B}) so one load fills one short vector.
 * {@code -Dglmj.vector.bits=128|256|512} picks another width, for tests.
 *
 * <p>C2 keeps a vector in a register only while it knows the vector's exact class. A load, a static factory
 * ({@code zero}, {@code broadcast}) or a change of shape ({@code convertShape}, {@code reinterpretShape}) yields a
 * vector whose class C2 learns only later; a convenience method called on it ({@code add}, {@code and},
 * {@code reinterpretAsInts}, {@code lanewise} with a scalar) dispatches inside the JDK on a type profile shared by
 * every shape in the process, which several shapes turn megamorphic, and every vector then lives boxed on the heap.
 * So the kernels call only {@code lanewise}, {@code convertShape}, {@code reinterpretShape}, {@code reduceLanes} or
 * {@code lane} on such a vector (accumulators carried around a loop are such vectors too), or pass it as the argument
 * of a vector whose class is known: {@code x.add(acc)}, not {@code acc.add(x)}. Accumulators start from
 * {@code zero()}, not from a constant vector, which would keep them boxed.
 */
public final class Lanes {
    static final int BITS = Integer.getInteger("glmj.vector.bits", ShortVector.SPECIES_PREFERRED.vectorBitSize());
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS));
    /** Weights (and activations) per integer step: 32 at 512 bits. */
    static final int L = S.length();
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(BITS / 2));
    public static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    public static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    /** 16-bit lanes matching {@link #F} lane for lane, for f16 and bf16 weights. */
    static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS / 2));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** {@link #B}'s bytes as 32-bit lanes, for shifting them. */
    static final VectorSpecies<Integer> IB = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS / 2));

    static final IntVector SIXTEENS = IntVector.broadcast(I, 16);
    /** The shift from an f16's mantissa to an f32's. */
    private static final IntVector THIRTEENS = IntVector.broadcast(I, 13);
    private static final IntVector F16_MAGNITUDE = IntVector.broadcast(I, 0x7FFF);
    private static final IntVector F16_SIGN = IntVector.broadcast(I, 0x8000);
    private static final FloatVector F16_REBIAS = FloatVector.broadcast(F, 0x1p112f);

    /** At 512 bits one step covers 32 weights: 1 in the integer lanes of its second 16 weights, else 0. */
    private static final IntVector SECOND_SIXTEEN = IntVector.zero(I).addIndex(1).lanewise(VectorOperators.LSHR, 3);

    /**
     * Narrower shapes, at most 16 weights per step, for layouts that pack a 32-weight group's halves into the low and
     * high nibbles of the same 16 bytes (IQ4_NL, IQ4_XS).
     */
    static final int L16 = Math.min(L, 16);
    static final VectorSpecies<Byte> B16 = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L16));
    static final VectorSpecies<Short> S16 = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L16));
    static final VectorSpecies<Integer> I16 = VectorSpecies.of(int.class, VectorShape.forBitSize(16 * L16));
    static final VectorSpecies<Float> F16 = VectorSpecies.of(float.class, VectorShape.forBitSize(16 * L16));
    private static final IntVector SIXTEENS16 = IntVector.broadcast(I16, 16);
    private static final ShortVector LANE_INDEX16 = ShortVector.zero(S16).addIndex(1);
    private static final ShortVector ONES16 = ShortVector.broadcast(S16, (short) 1);
    private static final ShortVector FOURS16 = ShortVector.broadcast(S16, (short) 4);
    private static final VectorSpecies<Integer> IB16 = VectorSpecies.of(int.class, VectorShape.forBitSize(8 * L16));

    static {
        if (L < 8 || L > 32) {
            throw new IllegalStateException("vector width " + BITS + " bits is not one of 128, 256, 512");
        }
    }

    private Lanes() {
    }

    /**
     * The products of {@link #L} weights {@code w} (signed 8-bit lanes) with activation quants {@code a[at..at+L)},
     * summed in adjacent pairs into {@link #I}'s lanes. Exact: every product and pair fits 16 bits.
     */
    static IntVector dot(ByteVector w, short[] a, int at) {
        return pairSums(((ShortVector) w.convertShape(VectorOperators.B2S, S, 0))
                .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, a, at)));
    }

    /**
     * The scale of each integer lane of {@link #dot} for weights {@code [p, p+L)} of a 32-weight run whose first 16
     * weights have scale {@code first} and last 16 {@code second}.
     */
    static IntVector sixteenScales(int p, int first, int second) {
        if (L == 32) {
            // arithmetic rather than a blend, which C2 does not compile to one instruction here
            return SECOND_SIXTEEN.mul(second - first).add(first);
        }
        return IntVector.broadcast(I, p < 16 ? first : second);
    }

    /**
     * The products of {@link #L} weights {@code w} with activation quants {@code a[at..at+L)}, each also multiplied by
     * its lane's {@code scales}, in 16 bits: for callers whose weight * activation * scale (and their sums, until
     * {@link #pairSums}) fit 16 bits, as 2-bit weights' with 4-bit scales do.
     */
    static ShortVector scaledProducts(ByteVector w, short[] a, int at, ShortVector scales) {
        return ((ShortVector) w.convertShape(VectorOperators.B2S, S, 0))
                .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, a, at)).mul(scales);
    }

    /** Adjacent pairs of 16-bit lanes summed into {@link #I}'s 32-bit lanes. */
    static IntVector pairSums(ShortVector products) {
        IntVector pairs = (IntVector) products.reinterpretShape(I, 0);
        return pairs.lanewise(VectorOperators.LSHL, SIXTEENS).lanewise(VectorOperators.ASHR, SIXTEENS)
                .add(pairs.lanewise(VectorOperators.ASHR, SIXTEENS));
    }

    /**
     * As {@link #sixteenScales(int, int, int)}, in the 16-bit lanes of {@link #scaledProducts}: arithmetic on constant
     * lanes rather than a shuffle looked up from an array, whose class C2 cannot always see (it then boxes vectors).
     */
    static ShortVector shortScales(int p, int first, int second) {
        if (L == 32) {
            return SECOND_SIXTEEN_SHORTS.mul((short) (second - first)).add((short) first);
        }
        return ShortVector.broadcast(S, (short) (p < 16 ? first : second));
    }

    /** At 512 bits: 1 in the 16-bit lanes of a step's second 16 weights, else 0. */
    private static final ShortVector SECOND_SIXTEEN_SHORTS = ShortVector.zero(S).addIndex(1).lanewise(VectorOperators.LSHR, 4);

    /**
     * Bits {@code [shift, shift + width)} of each byte of {@code v}, as the byte's value ({@code mask} is
     * {@code 2^width - 1}). Shifting 32-bit lanes compiles to one instruction for any count, where a byte shift by a
     * count C2 cannot prove constant falls back to scalar code; the mask drops the bits shifted in from the next byte.
     */
    static ByteVector bits(ByteVector v, int shift, int mask) {
        return ((ByteVector) ((IntVector) v.reinterpretShape(IB, 0))
                .lanewise(VectorOperators.LSHR, IntVector.broadcast(IB, shift)).reinterpretShape(B, 0))
                .lanewise(VectorOperators.AND, ByteVector.broadcast(B, (byte) mask));
    }

    /** Each byte of {@code v} shifted left by {@code bits}; every byte must be below {@code 256 >> bits}. */
    static ByteVector shiftLeft(ByteVector v, int bits) {
        return (ByteVector) ((IntVector) v.reinterpretShape(IB, 0))
                .lanewise(VectorOperators.LSHL, IntVector.broadcast(IB, bits)).reinterpretShape(B, 0);
    }

    /**
     * As {@link #bits} for sixteen bytes (128 bits), whatever the width: the row decoders' and Q2_K's mins. Not
     * {@link #bits} itself, which the dot kernels call with their wider bytes: a helper called with vectors of two
     * shapes is compiled well for neither.
     */
    static ByteVector sixteenBits(ByteVector v, int shift, int mask) {
        return ((ByteVector) ((IntVector) v.reinterpretShape(IntVector.SPECIES_128, 0))
                .lanewise(VectorOperators.LSHR, IntVector.broadcast(IntVector.SPECIES_128, shift))
                .reinterpretShape(ByteVector.SPECIES_128, 0))
                .lanewise(VectorOperators.AND, ByteVector.broadcast(ByteVector.SPECIES_128, (byte) mask));
    }

    /** As {@link #shiftLeft} for sixteen bytes. */
    static ByteVector sixteenShiftLeft(ByteVector v, int bits) {
        return (ByteVector) ((IntVector) v.reinterpretShape(IntVector.SPECIES_128, 0))
                .lanewise(VectorOperators.LSHL, IntVector.broadcast(IntVector.SPECIES_128, bits))
                .reinterpretShape(ByteVector.SPECIES_128, 0);
    }

    /** Byte {@code index} (0 = lowest) of {@code packed}, unsigned: one of 8 packed scales or mins. */
    static int byteOf(long packed, int index) {
        return (int) (packed >>> (8 * index)) & 0xFF;
    }

    /** {@link #L} weights at byte {@code offset}. */
    static ByteVector bytes(MemorySegment w, long offset) {
        return ByteVector.fromMemorySegment(B, w, offset, LE);
    }

    /** The high nibbles of the 16 bytes at {@code offset}, as 16 byte lanes (Q2_K's mins). */
    static ByteVector highNibbles16(MemorySegment w, long offset) {
        ByteVector sixteen = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, offset, LE);
        return sixteenBits(sixteen, 4, 0x0F);
    }

    /** As {@link #dot} in the narrower shapes: {@link #L16} weights. */
    static IntVector dot16(ByteVector w, short[] a, int at) {
        ShortVector products = ((ShortVector) w.convertShape(VectorOperators.B2S, S16, 0))
                .lanewise(VectorOperators.MUL, ShortVector.fromArray(S16, a, at));
        IntVector pairs = (IntVector) products.reinterpretShape(I16, 0);
        return pairs.lanewise(VectorOperators.LSHL, SIXTEENS16).lanewise(VectorOperators.ASHR, SIXTEENS16)
                .add(pairs.lanewise(VectorOperators.ASHR, SIXTEENS16));
    }

    /**
     * The 4-bit values of weights {@code [p, p+L16)} of a 32-weight group packed in 16 bytes at {@code offset}: byte j
     * holds weight j in its low nibble and weight j+16 in its high nibble.
     */
    static ByteVector nibbles16(MemorySegment w, long offset, int p) {
        ByteVector packed = ByteVector.fromMemorySegment(B16, w, offset + (p & 15), LE);
        // not shiftRight: a helper called with vectors of two shapes is compiled for neither (C2 then boxes them)
        ByteVector nibbles = p < 16 ? packed : (ByteVector) ((IntVector) packed.reinterpretShape(IB16, 0))
                .lanewise(VectorOperators.LSHR, IntVector.broadcast(IB16, 4)).reinterpretShape(B16, 0);
        return nibbles.lanewise(VectorOperators.AND, ByteVector.broadcast(B16, (byte) 0x0F));
    }

    /**
     * The fifth bits of weights {@code [p, p+L16)} of a 32-weight group whose fifth bits are the 32-bit {@code qh}
     * (Q5_0, Q5_1): 16 in the lane of a weight whose bit is set, else 0.
     */
    static ByteVector fifthBits16(int qh, int p) {
        return (ByteVector) ShortVector.broadcast(S16, (short) (qh >>> p)).lanewise(VectorOperators.LSHR, LANE_INDEX16)
                .lanewise(VectorOperators.AND, ONES16).lanewise(VectorOperators.LSHL, FOURS16)
                .convertShape(VectorOperators.S2B, B16, 0);
    }

    /** {@code table[index]} in each lane, {@code index} 0-15 and the table from {@link #table16}. */
    static ByteVector lookup16(ByteVector index, ByteVector[] table) {
        if (L16 == 16) {
            return index.selectFrom(table[0]);
        }
        ByteVector within = index.and((byte) 7);
        return within.selectFrom(table[0]).blend(within.selectFrom(table[1]), index.compare(VectorOperators.GE, 8));
    }

    /** A 16-entry table of signed bytes as {@link #lookup16} reads it: one vector, or halves below 16 lanes. */
    static ByteVector[] table16(byte[] table) {
        if (L16 == 16) {
            return new ByteVector[] {ByteVector.fromArray(B16, table, 0)};
        }
        return new ByteVector[] {ByteVector.fromArray(B16, table, 0), ByteVector.fromArray(B16, table, 8)};
    }

    /** The dot product of 16 non-negative bytes with {@code ints[at..at+16)}. */
    static int dotSixteen(ByteVector sixteen, int[] ints, int at) {
        IntVector sum = IntVector.zero(I);
        for (int part = 0; part < 16 / I.length(); part++) {
            IntVector values = (IntVector) sixteen.convertShape(VectorOperators.B2I, I, part);
            sum = values.lanewise(VectorOperators.MUL, IntVector.fromArray(I, ints, at + part * I.length())).add(sum);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Finite f16 bit patterns (sign-extended to 32 bits) as floats: exponent and mantissa moved into an f32's, then
     * rebiased by multiplying with 2^112, which also normalizes subnormals exactly.
     */
    static FloatVector f16ToFloat(IntVector bits) {
        IntVector magnitudeBits = bits.lanewise(VectorOperators.AND, F16_MAGNITUDE).lanewise(VectorOperators.LSHL, THIRTEENS);
        FloatVector magnitude = ((FloatVector) magnitudeBits.reinterpretShape(F, 0)).lanewise(VectorOperators.MUL, F16_REBIAS);
        IntVector sign = bits.lanewise(VectorOperators.AND, F16_SIGN).lanewise(VectorOperators.LSHL, SIXTEENS);
        return (FloatVector) ((IntVector) magnitude.reinterpretShape(I, 0)).lanewise(VectorOperators.OR, sign).reinterpretShape(F, 0);
    }

    /** {@link #sum} for {@link #F16}'s vectors: a helper called with two shapes is compiled well for neither. */
    static float sum16(FloatVector v) {
        if (F16.length() == 8) {
            v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 0))
                    .lanewise(VectorOperators.ADD, v.reinterpretShape(FloatVector.SPECIES_128, 1));
        }
        return (v.lane(0) + v.lane(2)) + (v.lane(1) + v.lane(3));
    }

    /**
     * The sum of a float vector's lanes, always added in the same order: halves added lane-wise (512 to 256 to 128
     * bits), then lanes {0+2, 1+3}, then those two; for 16 lanes the order of GCC's {@code _mm512_reduce_add_ps},
     * with which ggml's AVX-512 dot products end. Not {@code reduceLanes(ADD)}, whose order is unspecified and changes
     * once C2 compiles the caller: the same row dotted at another time (in another batch) then differed in its last
     * bits, and f16 roundings downstream (the KV cache, small-batch attention) magnify such differences.
     */
    static float sum(FloatVector v) {
        // halves added in the method itself: a helper taking the shape as an argument is compiled for no shape
        if (F.length() == 16) {
            v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_256, 0))
                    .lanewise(VectorOperators.ADD, v.reinterpretShape(FloatVector.SPECIES_256, 1));
        }
        if (F.length() >= 8) {
            v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 0))
                    .lanewise(VectorOperators.ADD, v.reinterpretShape(FloatVector.SPECIES_128, 1));
        }
        return (v.lane(0) + v.lane(2)) + (v.lane(1) + v.lane(3));
    }

    /**
     * The sum of a float vector's lanes in the order ggml's f32 vector reduction ends ({@code GGML_F32_VEC_REDUCE}, with
     * which ggml_vec_dot_f32 and ggml_vec_dot_f16 end): with AVX2 (8 lanes) halves added, then two horizontal adds,
     * {@code (0+1) + (2+3)}; with AVX-512 {@code _mm512_reduce_add_ps}, the order of {@link #sum(FloatVector)}, which
     * other widths take too. (ggml's quantized dot products end with hsum_float_8 at 8 lanes: {@link #sum}'s order.)
     */
    static float vecReduce(FloatVector v) {
        if (F.length() != 8) {
            return sum(v);
        }
        v = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 0))
                .lanewise(VectorOperators.ADD, v.reinterpretShape(FloatVector.SPECIES_128, 1));
        return (v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3));
    }

    /**
     * {@link #vecReduce(FloatVector)} of a vector stored at {@code lanes[at]}, in the same order, as
     * {@link #sum(float[], int)} is to {@link #sum(FloatVector)}; it may change the stored lanes.
     */
    static float vecReduce(float[] lanes, int at) {
        if (F.length() != 8) {
            return sum(lanes, at);
        }
        float t0 = lanes[at] + lanes[at + 4], t1 = lanes[at + 1] + lanes[at + 5];
        float t2 = lanes[at + 2] + lanes[at + 6], t3 = lanes[at + 3] + lanes[at + 7];
        return (t0 + t1) + (t2 + t3);
    }

    /**
     * {@link #sum(FloatVector)} of a vector stored at {@code lanes[at]}, in the same order: for kernels with more
     * accumulators than C2's inlining budget allows {@code sum} calls, which spill them to an array instead.
     */
    static float sum(float[] lanes, int at) {
        for (int width = F.length() / 2; width >= 4; width /= 2) {
            for (int i = 0; i < width; i++) {
                lanes[at + i] += lanes[at + width + i];
            }
        }
        return (lanes[at] + lanes[at + 2]) + (lanes[at + 1] + lanes[at + 3]);
    }
}
