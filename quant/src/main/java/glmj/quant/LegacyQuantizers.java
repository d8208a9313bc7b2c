package glmj.quant;

import java.lang.foreign.MemorySegment;

import static glmj.quant.BlockIo.putByte;
import static glmj.quant.BlockIo.putInt;
import static glmj.quant.BlockIo.putShort;
import static glmj.quant.GgmlMath.roundHalfAwayFromZero;
import static glmj.quant.GgmlMath.signedMaxByMagnitude;
import static glmj.quant.GgmlMath.truncateLikeX86;

/** The 32-weight block quantizers Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 ({@code quantize_row_q*_ref}). */
final class LegacyQuantizers {

    private static final int QK = 32;

    // provisional field offsets, replaced by the glmj.tensor.blocks constants on merge
    private static final int Q4_0_D = 0, Q4_0_QS = 2, Q4_0_SIZE = 18;
    private static final int Q4_1_D = 0, Q4_1_M = 2, Q4_1_QS = 4, Q4_1_SIZE = 20;
    private static final int Q5_0_D = 0, Q5_0_QH = 2, Q5_0_QS = 6, Q5_0_SIZE = 22;
    private static final int Q5_1_D = 0, Q5_1_M = 2, Q5_1_QH = 4, Q5_1_QS = 8, Q5_1_SIZE = 24;
    private static final int Q8_0_D = 0, Q8_0_QS = 2, Q8_0_SIZE = 34;

    private LegacyQuantizers() {
    }

    static void q4_0(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q4_0_SIZE) {
            float max = signedMaxByMagnitude(x, xo, QK);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q4_0_D, HalfFloats.toF16(d));
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(15, (byte) truncateLikeX86(x[xo + j] * id + 8.5f));
                int q1 = Math.min(15, (byte) truncateLikeX86(x[xo + QK / 2 + j] * id + 8.5f));
                putByte(y, yo + Q4_0_QS + j, (q0 & 0xFF) | ((q1 & 0xFF) << 4));
            }
        }
    }

    static void q4_1(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q4_1_SIZE) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = x[xo + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q4_1_D, HalfFloats.toF16(d));
            putShort(y, yo + Q4_1_M, HalfFloats.toF16(min));
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(15, (byte) truncateLikeX86((x[xo + j] - min) * id + 0.5f));
                int q1 = Math.min(15, (byte) truncateLikeX86((x[xo + QK / 2 + j] - min) * id + 0.5f));
                putByte(y, yo + Q4_1_QS + j, (q0 & 0xFF) | ((q1 & 0xFF) << 4));
            }
        }
    }

    static void q5_0(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q5_0_SIZE) {
            float max = signedMaxByMagnitude(x, xo, QK);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q5_0_D, HalfFloats.toF16(d));
            int highBits = 0;
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(31, (byte) truncateLikeX86(x[xo + j] * id + 16.5f)) & 0xFF;
                int q1 = Math.min(31, (byte) truncateLikeX86(x[xo + QK / 2 + j] * id + 16.5f)) & 0xFF;
                putByte(y, yo + Q5_0_QS + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                highBits |= ((q0 & 0x10) >>> 4) << j;
                highBits |= ((q1 & 0x10) >>> 4) << (j + QK / 2);
            }
            putInt(y, yo + Q5_0_QH, highBits);
        }
    }

    static void q5_1(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q5_1_SIZE) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = x[xo + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q5_1_D, HalfFloats.toF16(d));
            putShort(y, yo + Q5_1_M, HalfFloats.toF16(min));
            int highBits = 0;
            for (int j = 0; j < QK / 2; j++) {
                int q0 = truncateLikeX86((x[xo + j] - min) * id + 0.5f) & 0xFF;
                int q1 = truncateLikeX86((x[xo + QK / 2 + j] - min) * id + 0.5f) & 0xFF;
                putByte(y, yo + Q5_1_QS + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                highBits |= ((q0 & 0x10) >>> 4) << j;
                highBits |= ((q1 & 0x10) >>> 4) << (j + QK / 2);
            }
            putInt(y, yo + Q5_1_QH, highBits);
        }
    }

    static void q8_0(float[] x, int xo, MemorySegment y, long yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += Q8_0_SIZE) {
            float amax = 0.0f;
            for (int j = 0; j < QK; j++) {
                float ax = Math.abs(x[xo + j]);
                amax = amax > ax ? amax : ax; // C's MAX macro, which lets a NaN through only from its second operand
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(y, yo + Q8_0_D, HalfFloats.toF16(d));
            for (int j = 0; j < QK; j++) {
                putByte(y, yo + Q8_0_QS + j, truncateLikeX86(roundHalfAwayFromZero(x[xo + j] * id)));
            }
        }
    }
}
