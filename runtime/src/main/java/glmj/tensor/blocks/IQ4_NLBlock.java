package glmj.tensor.blocks;

import java.lang.foreign.MemorySegment;

/**
 * IQ4_NL: 32 weights, weight = d * {@link IQTables#KVALUES_IQ4NL}[q] with 4-bit q. Byte j of qs holds element j in
 * its low nibble and element j + 16 in its high nibble.
 */
public final class IQ4_NLBlock {
    public static final int WEIGHTS = 32;
    /** fp16 scale. */
    public static final int D_OFFSET = 0;
    /** 16 bytes of nibble pairs. */
    public static final int QS_OFFSET = 2;
    public static final int BYTES = 18;

    private IQ4_NLBlock() {
    }

    public static float d(MemorySegment blocks, long block) {
        return LittleEndian.f16(blocks, block + D_OFFSET);
    }

    public static void dequantize(MemorySegment blocks, long block, float[] dst, int dstOffset) {
        float d = d(blocks, block);
        byte[] values = IQTables.KVALUES_IQ4NL;
        for (int j = 0; j < WEIGHTS / 2; j++) {
            int q = LittleEndian.u8(blocks, block + QS_OFFSET + j);
            dst[dstOffset + j] = d * values[q & 0xF];
            dst[dstOffset + j + WEIGHTS / 2] = d * values[q >>> 4];
        }
    }
}
