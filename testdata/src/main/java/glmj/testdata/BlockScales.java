package glmj.testdata;

import glmj.tensor.GGMLType;
import glmj.tensor.blocks.IQ1_MBlock;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q3_KBlock;
import glmj.tensor.blocks.Q6_KBlock;

import java.lang.foreign.MemorySegment;
import java.util.function.IntSupplier;

/**
 * The f16 scale fields of the block formats a random-weight test or benchmark must overwrite: random quant bytes are
 * any valid blocks, but random scale bits can be infinities, NaNs or magnitudes that drown every other block.
 */
public final class BlockScales {
    private BlockScales() {
    }

    /**
     * Sets, block after block, every f16 scale of the quantized {@code type} stored in {@code blocks} to bits from
     * {@code half}, one call per field in field order (one per block for IQ1_M, whose scale is spread over the top
     * nibbles of its four scale words).
     */
    public static void set(GGMLType type, MemorySegment blocks, IntSupplier half) {
        for (long block = 0; block < blocks.byteSize(); block += type.typeSize) {
            switch (type) {
                case Q2_K -> setHalves(blocks, block, half, Q2_KBlock.D_OFFSET, Q2_KBlock.DMIN_OFFSET);
                case Q4_K, Q5_K -> setHalves(blocks, block, half, KQuantHeader.D_OFFSET, KQuantHeader.DMIN_OFFSET);
                case Q4_1, Q5_1 -> setHalves(blocks, block, half, 0, 2); // d, then the minimum m
                case Q3_K -> setHalves(blocks, block, half, Q3_KBlock.D_OFFSET);
                case Q6_K -> setHalves(blocks, block, half, Q6_KBlock.D_OFFSET);
                case IQ1_M -> {
                    int bits = half.getAsInt();
                    for (int w = 0; w < 4; w++) {
                        long offset = block + IQ1_MBlock.SCALES_OFFSET + 2L * w;
                        int word = blocks.get(LittleEndian.SHORT, offset) & 0x0FFF | ((bits >>> (4 * w)) & 0xF) << 12;
                        blocks.set(LittleEndian.SHORT, offset, (short) word);
                    }
                }
                default -> setHalves(blocks, block, half, 0); // every other block format starts with its f16 scale
            }
        }
    }

    private static void setHalves(MemorySegment blocks, long block, IntSupplier half, int... offsets) {
        for (int offset : offsets) {
            blocks.set(LittleEndian.SHORT, block + offset, (short) half.getAsInt());
        }
    }
}
