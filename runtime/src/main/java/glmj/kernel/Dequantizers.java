package glmj.kernel;

import glmj.tensor.GGMLType;
import glmj.tensor.blocks.IQ4_XSBlock;
import glmj.tensor.blocks.IQTables;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q3_KBlock;
import glmj.tensor.blocks.Q4_KBlock;
import glmj.tensor.blocks.Q5_KBlock;
import glmj.tensor.blocks.Q6_KBlock;
import glmj.tensor.blocks.Q8_0Block;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.Lanes.F;
import static glmj.kernel.Lanes.LE;
import static glmj.kernel.Lanes.byteOf;
import static glmj.kernel.Lanes.sixteenBits;
import static glmj.kernel.Lanes.sixteenShiftLeft;

/**
 * Rows of weights decoded to f32 with vectors, sixteen weights at a time, giving exactly the values of the scalar
 * dequantizers in {@code glmj.tensor.blocks} (the same products, rounded once each): for {@link Panels}, which decode
 * a row once for a whole prompt. A type's row of {@link GGMLType} names its decoder here; types without one use the
 * scalar dequantizer.
 */
public final class Dequantizers {
    /** Sixteen weights' bytes. */
    private static final VectorSpecies<Byte> SIXTEEN = ByteVector.SPECIES_128;
    private static final ByteVector IQ4_VALUES = ByteVector.fromArray(SIXTEEN, IQTables.KVALUES_IQ4NL, 0);

    private Dequantizers() {
    }

    /** {@code dst[at..at+16) = scale * values - offset}, lane for lane. */
    private static void put(ByteVector values, float scale, float offset, float[] dst, int at) {
        for (int part = 0; part < 16 / F.length(); part++) {
            ((FloatVector) values.convertShape(VectorOperators.B2F, F, part))
                    .lanewise(VectorOperators.MUL, FloatVector.broadcast(F, scale)).sub(offset)
                    .intoArray(dst, at + part * F.length());
        }
    }

    private static ByteVector bytes(MemorySegment w, long offset) {
        return ByteVector.fromMemorySegment(SIXTEEN, w, offset, LE);
    }

    public static void q8_0(MemorySegment w, long offset, float[] dst, int at, int cols) {
        for (int b = 0; b < cols / 32; b++) {
            long block = offset + (long) b * Q8_0Block.BYTES;
            float d = Q8_0Block.d(w, block);
            for (int part = 0; part < 2; part++) {
                put(bytes(w, block + Q8_0Block.QS_OFFSET + 16 * part), d, 0, dst, at + 32 * b + 16 * part);
            }
        }
    }

    public static void q2_K(MemorySegment w, long offset, float[] dst, int at, int cols) {
        for (int b = 0; b < cols / 256; b++) {
            long block = offset + (long) b * Q2_KBlock.BYTES;
            float d = Q2_KBlock.d(w, block);
            float dmin = Q2_KBlock.dmin(w, block);
            for (int half = 0; half < 2; half++) {
                for (int plane = 0; plane < 4; plane++) {
                    for (int part = 0; part < 2; part++) {
                        int sc = LittleEndian.u8(w, block + Q2_KBlock.SCALES_OFFSET + 8 * half + 2 * plane + part);
                        ByteVector q = sixteenBits(bytes(w, block + Q2_KBlock.QS_OFFSET + 32 * half + 16 * part), 2 * plane, 3);
                        put(q, d * (sc & 0xF), dmin * (sc >>> 4), dst, at + 256 * b + 128 * half + 32 * plane + 16 * part);
                    }
                }
            }
        }
    }

    public static void q3_K(MemorySegment w, long offset, float[] dst, int at, int cols) {
        for (int b = 0; b < cols / 256; b++) {
            long block = offset + (long) b * Q3_KBlock.BYTES;
            float d = Q3_KBlock.d(w, block);
            for (int half = 0; half < 2; half++) {
                long scales = Q3_KBlock.biasedScales(w, block, half);
                for (int plane = 0; plane < 4; plane++) {
                    for (int part = 0; part < 2; part++) {
                        ByteVector low = sixteenBits(bytes(w, block + Q3_KBlock.QS_OFFSET + 32 * half + 16 * part), 2 * plane, 3);
                        ByteVector high = sixteenBits(bytes(w, block + Q3_KBlock.HMASK_OFFSET + 16 * part), 4 * half + plane, 1);
                        // q - 4 when the high bit is clear: (q | bit << 2) - 4
                        ByteVector q = low.or(sixteenShiftLeft(high, 2)).sub((byte) 4);
                        put(q, d * (byteOf(scales, 2 * plane + part) - 32), 0, dst, at + 256 * b + 128 * half + 32 * plane + 16 * part);
                    }
                }
            }
        }
    }

    public static void q4_K(MemorySegment w, long offset, float[] dst, int at, int cols) {
        withMins(w, offset, dst, at, cols, Q4_KBlock.BYTES, Q4_KBlock.QS_OFFSET, NO_FIFTH_BITS);
    }

    public static void q5_K(MemorySegment w, long offset, float[] dst, int at, int cols) {
        withMins(w, offset, dst, at, cols, Q5_KBlock.BYTES, Q5_KBlock.QS_OFFSET, Q5_KBlock.QH_OFFSET);
    }

    private static final int NO_FIFTH_BITS = -1;

    /**
     * Q4_K and Q5_K, which share their header and nibble layout: sub-block s's quants are nibble s&1 of 32 bytes of qs,
     * plus (Q5_K) bit s of qh as their fifth bit.
     */
    private static void withMins(MemorySegment w, long offset, float[] dst, int at, int cols, int blockBytes, int qsOffset,
                                 int qhOffset) {
        for (int b = 0; b < cols / 256; b++) {
            long block = offset + (long) b * blockBytes;
            float d = KQuantHeader.d(w, block);
            float dmin = KQuantHeader.dmin(w, block);
            long scales = KQuantHeader.scales(w, block);
            long mins = KQuantHeader.mins(w, block);
            for (int sub = 0; sub < 8; sub++) {
                for (int part = 0; part < 2; part++) {
                    ByteVector q = sixteenBits(bytes(w, block + qsOffset + 32 * (sub >>> 1) + 16 * part), 4 * (sub & 1), 0x0F);
                    if (qhOffset != NO_FIFTH_BITS) {
                        q = q.or(sixteenShiftLeft(sixteenBits(bytes(w, block + qhOffset + 16 * part), sub, 1), 4));
                    }
                    put(q, d * byteOf(scales, sub), dmin * byteOf(mins, sub), dst, at + 256 * b + 32 * sub + 16 * part);
                }
            }
        }
    }

    public static void q6_K(MemorySegment w, long offset, float[] dst, int at, int cols) {
        for (int b = 0; b < cols / 256; b++) {
            long block = offset + (long) b * Q6_KBlock.BYTES;
            float d = Q6_KBlock.d(w, block);
            for (int half = 0; half < 2; half++) {
                for (int k = 0; k < 4; k++) {
                    for (int part = 0; part < 2; part++) {
                        ByteVector low = sixteenBits(bytes(w, block + Q6_KBlock.QL_OFFSET + 64 * half + 32 * (k & 1) + 16 * part),
                                4 * (k >>> 1), 0x0F);
                        ByteVector high = sixteenBits(bytes(w, block + Q6_KBlock.QH_OFFSET + 32 * half + 16 * part), 2 * k, 3);
                        ByteVector q = low.or(sixteenShiftLeft(high, 4)).sub((byte) 32);
                        put(q, d * Q6_KBlock.scale(w, block, 8 * half + 2 * k + part), 0, dst,
                                at + 256 * b + 128 * half + 32 * k + 16 * part);
                    }
                }
            }
        }
    }

    public static void iq4_xs(MemorySegment w, long offset, float[] dst, int at, int cols) {
        for (int b = 0; b < cols / 256; b++) {
            long block = offset + (long) b * IQ4_XSBlock.BYTES;
            float d = IQ4_XSBlock.d(w, block);
            for (int g = 0; g < 8; g++) {
                float dg = d * IQ4_XSBlock.scale(w, block, g);
                ByteVector packed = bytes(w, block + IQ4_XSBlock.QS_OFFSET + 16 * g);
                put(sixteenBits(packed, 0, 0x0F).selectFrom(IQ4_VALUES), dg, 0, dst, at + 256 * b + 32 * g);
                put(sixteenBits(packed, 4, 0x0F).selectFrom(IQ4_VALUES), dg, 0, dst, at + 256 * b + 32 * g + 16);
            }
        }
    }
}
