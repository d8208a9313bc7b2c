package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * MXFP4 (OCP microscaling): 32 E2M1 weights sharing an E8M0 power-of-two scale. Weight =
 * {@link IQTables#KVALUES_MXFP4}[q] * 2^(e-128), the table holding doubled E2M1 values. Byte j of qs holds
 * element j in its low nibble and element j + 16 in its high nibble.
 */
public final class MXFP4Block {
    public static final int WEIGHTS = 32;
    /** E8M0 scale exponent. */
    public static final int E_OFFSET = 0;
    /** 16 bytes of nibble pairs. */
    public static final int QS_OFFSET = 1;
    public static final int BYTES = 17;

    private MXFP4Block() {
    }

    /** Half the block scale, to multiply the doubled table values by. */
    public static float halfScale(MemorySegment blocks, long block) {
        return FloatFormats.e8m0ToF32Half(LittleEndian.u8(blocks, block + E_OFFSET));
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = halfScale(blocks, block);
        byte[] values = IQTables.KVALUES_MXFP4;
        for (int j = 0; j < WEIGHTS / 2; j++) {
            int q = LittleEndian.u8(blocks, block + QS_OFFSET + j);
            dst[dstOffset + j] = values[q & 0xF] * d;
            dst[dstOffset + j + WEIGHTS / 2] = values[q >>> 4] * d;
        }
    }
}
