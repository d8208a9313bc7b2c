package glmj.tensor;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.IQ1_MBlock;
import glmj.tensor.blocks.IQ1_SBlock;
import glmj.tensor.blocks.IQ2_SBlock;
import glmj.tensor.blocks.IQ2_XSBlock;
import glmj.tensor.blocks.IQ2_XXSBlock;
import glmj.tensor.blocks.IQ3_SBlock;
import glmj.tensor.blocks.IQ3_XXSBlock;
import glmj.tensor.blocks.IQ4_NLBlock;
import glmj.tensor.blocks.IQ4_XSBlock;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.MXFP4Block;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q3_KBlock;
import glmj.tensor.blocks.Q4_0Block;
import glmj.tensor.blocks.Q4_1Block;
import glmj.tensor.blocks.Q4_KBlock;
import glmj.tensor.blocks.Q5_0Block;
import glmj.tensor.blocks.Q5_1Block;
import glmj.tensor.blocks.Q5_KBlock;
import glmj.tensor.blocks.Q6_KBlock;
import glmj.tensor.blocks.Q8_0Block;
import glmj.tensor.blocks.Q8_KBlock;

import java.lang.foreign.MemorySegment;

/**
 * Every tensor type llama.cpp v0.5.0 (ggml 0.25.1) defines, with its GGUF id, ggml name, and block geometry:
 * {@code blockSize} weights are stored in {@code typeSize} bytes. Ids missing from the sequence were removed from ggml.
 * Like ggml's type-traits table, a readable type refers to its block format in {@code glmj.tensor.blocks}, whose
 * decoder is bit-exact with ggml's {@code to_float}.
 */
public enum GGMLType {
    F32(0, "f32", 1, 4, (blocks, offset, dst, i) -> dst[i] = LittleEndian.f32(blocks, offset)),
    F16(1, "f16", 1, 2, (blocks, offset, dst, i) -> dst[i] = LittleEndian.f16(blocks, offset)),
    Q4_0(2, "q4_0", Q4_0Block.WEIGHTS, Q4_0Block.BYTES, Q4_0Block::dequantize),
    Q4_1(3, "q4_1", Q4_1Block.WEIGHTS, Q4_1Block.BYTES, Q4_1Block::dequantize),
    Q5_0(6, "q5_0", Q5_0Block.WEIGHTS, Q5_0Block.BYTES, Q5_0Block::dequantize),
    Q5_1(7, "q5_1", Q5_1Block.WEIGHTS, Q5_1Block.BYTES, Q5_1Block::dequantize),
    Q8_0(8, "q8_0", Q8_0Block.WEIGHTS, Q8_0Block.BYTES, Q8_0Block::dequantize),
    Q8_1(9, "q8_1", 32, 36),
    Q2_K(10, "q2_K", Q2_KBlock.WEIGHTS, Q2_KBlock.BYTES, Q2_KBlock::dequantize),
    Q3_K(11, "q3_K", Q3_KBlock.WEIGHTS, Q3_KBlock.BYTES, Q3_KBlock::dequantize),
    Q4_K(12, "q4_K", Q4_KBlock.WEIGHTS, Q4_KBlock.BYTES, Q4_KBlock::dequantize),
    Q5_K(13, "q5_K", Q5_KBlock.WEIGHTS, Q5_KBlock.BYTES, Q5_KBlock::dequantize),
    Q6_K(14, "q6_K", Q6_KBlock.WEIGHTS, Q6_KBlock.BYTES, Q6_KBlock::dequantize),
    Q8_K(15, "q8_K", Q8_KBlock.WEIGHTS, Q8_KBlock.BYTES, Q8_KBlock::dequantize),
    IQ2_XXS(16, "iq2_xxs", IQ2_XXSBlock.WEIGHTS, IQ2_XXSBlock.BYTES, IQ2_XXSBlock::dequantize),
    IQ2_XS(17, "iq2_xs", IQ2_XSBlock.WEIGHTS, IQ2_XSBlock.BYTES, IQ2_XSBlock::dequantize),
    IQ3_XXS(18, "iq3_xxs", IQ3_XXSBlock.WEIGHTS, IQ3_XXSBlock.BYTES, IQ3_XXSBlock::dequantize),
    IQ1_S(19, "iq1_s", IQ1_SBlock.WEIGHTS, IQ1_SBlock.BYTES, IQ1_SBlock::dequantize),
    IQ4_NL(20, "iq4_nl", IQ4_NLBlock.WEIGHTS, IQ4_NLBlock.BYTES, IQ4_NLBlock::dequantize),
    IQ3_S(21, "iq3_s", IQ3_SBlock.WEIGHTS, IQ3_SBlock.BYTES, IQ3_SBlock::dequantize),
    IQ2_S(22, "iq2_s", IQ2_SBlock.WEIGHTS, IQ2_SBlock.BYTES, IQ2_SBlock::dequantize),
    IQ4_XS(23, "iq4_xs", IQ4_XSBlock.WEIGHTS, IQ4_XSBlock.BYTES, IQ4_XSBlock::dequantize),
    I8(24, "i8", 1, 1),
    I16(25, "i16", 1, 2),
    I32(26, "i32", 1, 4),
    I64(27, "i64", 1, 8),
    F64(28, "f64", 1, 8),
    IQ1_M(29, "iq1_m", IQ1_MBlock.WEIGHTS, IQ1_MBlock.BYTES, IQ1_MBlock::dequantize),
    BF16(30, "bf16", 1, 2, (blocks, offset, dst, i) -> dst[i] = FloatFormats.bf16ToF32(LittleEndian.u16(blocks, offset))),
    TQ1_0(34, "tq1_0", 256, 54),
    TQ2_0(35, "tq2_0", 256, 66),
    MXFP4(39, "mxfp4", MXFP4Block.WEIGHTS, MXFP4Block.BYTES, MXFP4Block::dequantize),
    NVFP4(40, "nvfp4", 64, 36),
    Q1_0(41, "q1_0", 128, 18),
    Q2_0(42, "q2_0", 64, 18);

    private static final GGMLType[] BY_ID = new GGMLType[43];

    static {
        for (GGMLType type : values()) {
            BY_ID[type.id] = type;
        }
    }

    /** The id stored in GGUF tensor infos and used by ggml's {@code enum ggml_type}. */
    public final int id;
    /** ggml's own name for the type, as {@code ggml_type_name} prints it. */
    public final String ggmlName;
    /** Weights per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int typeSize;
    private final BlockDecoder decoder;

    GGMLType(int id, String ggmlName, int blockSize, int typeSize) {
        this(id, ggmlName, blockSize, typeSize, null);
    }

    GGMLType(int id, String ggmlName, int blockSize, int typeSize, BlockDecoder decoder) {
        this.id = id;
        this.ggmlName = ggmlName;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.decoder = decoder;
    }

    /** The type with this id, or {@code null} when ggml defines none. */
    public static GGMLType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /** Bytes that {@code count} weights take; {@code count} must be a whole number of blocks. */
    public long byteSize(long count) {
        if (count % blockSize != 0) {
            throw new IllegalArgumentException(count + " weights is not a whole number of " + ggmlName + " blocks of " + blockSize);
        }
        return count / blockSize * typeSize;
    }

    public double bitsPerWeight() {
        return 8.0 * typeSize / blockSize;
    }

    /** Whether {@link #dequantize} can decode this type. */
    public boolean isReadable() {
        return decoder != null;
    }

    /**
     * Decodes {@code count} weights (a whole number of blocks) stored at {@code byteOffset} of {@code src} into
     * {@code dst[dstOffset..]}, bit-exact with ggml's {@code to_float}.
     *
     * @throws UnsupportedOperationException when this type is not readable
     * @throws IllegalArgumentException when {@code count} is not whole blocks or a range does not fit
     */
    public void dequantize(MemorySegment src, long byteOffset, float[] dst, int dstOffset, int count) {
        BlockDecoder blocks = readableDecoder();
        long bytes = byteSize(count);
        if (count < 0 || byteOffset < 0 || byteOffset > src.byteSize() - bytes) {
            throw new IllegalArgumentException(count + " " + ggmlName + " weights (" + bytes + " bytes) at byte offset "
                    + byteOffset + " do not fit in a segment of " + src.byteSize() + " bytes");
        }
        if (dstOffset < 0 || dstOffset > dst.length - count) {
            throw new IllegalArgumentException(count + " " + ggmlName + " weights do not fit at index " + dstOffset
                    + " of a float array of length " + dst.length);
        }
        long block = byteOffset;
        for (int i = dstOffset; i < dstOffset + count; i += blockSize, block += typeSize) {
            blocks.dequantize(src, block, dst, i);
        }
    }

    /** Decodes the first {@code count} weights (a whole number of blocks) of {@code src} into a new array. */
    public float[] dequantizeAll(MemorySegment src, long count) {
        readableDecoder();
        if (count < 0 || count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(count + " " + ggmlName + " weights do not fit in one float array");
        }
        float[] dst = new float[(int) count];
        dequantize(src, 0, dst, 0, (int) count);
        return dst;
    }

    private BlockDecoder readableDecoder() {
        if (decoder == null) {
            throw new UnsupportedOperationException("tensor type " + ggmlName + " is not supported for reading");
        }
        return decoder;
    }
}
