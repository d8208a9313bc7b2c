package glmj.tensor;

import glmj.kernel.Dequantizers;
import glmj.kernel.DotKernel;
import glmj.kernel.FloatDots;
import glmj.kernel.Fp8Rows;
import glmj.kernel.GgmlPrompt;
import glmj.kernel.IQuantDots;
import glmj.kernel.KQuantDots;
import glmj.kernel.LegacyDots;
import glmj.kernel.RowDecoder;
import glmj.kernel.ScaledRowDecoder;
import glmj.kernel.VecDotType;
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
import glmj.tensor.quantize.FloatConverters;
import glmj.tensor.quantize.IQ1Quantizers;
import glmj.tensor.quantize.IQ2Quantizers;
import glmj.tensor.quantize.IQ3Quantizers;
import glmj.tensor.quantize.KQuantizers;
import glmj.tensor.quantize.LegacyQuantizers;
import glmj.tensor.quantize.NonLinearQuantizers;
import glmj.tensor.quantize.RowQuantizer;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.GgmlPrompt.FLOAT_TILES;
import static glmj.kernel.GgmlPrompt.IQ_PANELS;
import static glmj.kernel.GgmlPrompt.MUL_MAT;
import static glmj.kernel.GgmlPrompt.VEC_DOT;

/**
 * The table of tensor types, one row per type with every fact glmj keeps about it, as ggml's {@code type_traits} and
 * {@code type_traits_cpu} together: the GGUF id and ggml name; the layout ({@code blockSize} weights in
 * {@code typeSize} bytes); the dequantizer ({@code to_float}, bit-exact with ggml's) and quantizer
 * ({@code from_float_ref}); the activation form its dot products read ({@code vec_dot_type}); the vector backend's dot
 * kernel and its vector row decoder for a prompt's panels; and which of ggml's prompt kernels llama.cpp gives it
 * ({@link GgmlPrompt}; only for types glmj can read). Every type llama.cpp v0.5.0 (ggml 0.25.1) defines has a row; ids missing from the sequence
 * were removed from ggml. Adding a type is one row here plus its block class in {@code glmj.tensor.blocks} and the
 * functions the row names.
 */
public enum GGMLType {
    F32(0, "f32", 1, 4, new Traits()
            .toFloat((blocks, offset, dst, i) -> dst[i] = LittleEndian.f32(blocks, offset))
            .vecDot(VecDotType.F32, FloatDots::f32).ggml(FLOAT_TILES)),
    F16(1, "f16", 1, 2, new Traits()
            .toFloat((blocks, offset, dst, i) -> dst[i] = LittleEndian.f16(blocks, offset)).fromFloat(FloatConverters::toF16)
            .vecDot(VecDotType.F16, FloatDots::f16).ggml(FLOAT_TILES)),
    Q4_0(2, "q4_0", Q4_0Block.WEIGHTS, Q4_0Block.BYTES, new Traits()
            .toFloat(Q4_0Block::dequantize).fromFloat(LegacyQuantizers::q4_0)
            .vecDot(VecDotType.Q8_0, LegacyDots::q4_0).ggml(MUL_MAT)),
    Q4_1(3, "q4_1", Q4_1Block.WEIGHTS, Q4_1Block.BYTES, new Traits()
            .toFloat(Q4_1Block::dequantize).fromFloat(LegacyQuantizers::q4_1)
            .vecDot(VecDotType.Q8_1, LegacyDots::q4_1).ggml(MUL_MAT)),
    Q5_0(6, "q5_0", Q5_0Block.WEIGHTS, Q5_0Block.BYTES, new Traits()
            .toFloat(Q5_0Block::dequantize).fromFloat(LegacyQuantizers::q5_0)
            .vecDot(VecDotType.Q8_0, LegacyDots::q5_0).ggml(MUL_MAT)),
    Q5_1(7, "q5_1", Q5_1Block.WEIGHTS, Q5_1Block.BYTES, new Traits()
            .toFloat(Q5_1Block::dequantize).fromFloat(LegacyQuantizers::q5_1)
            .vecDot(VecDotType.Q8_1, LegacyDots::q5_1).ggml(MUL_MAT)),
    Q8_0(8, "q8_0", Q8_0Block.WEIGHTS, Q8_0Block.BYTES, new Traits()
            .toFloat(Q8_0Block::dequantize).fromFloat(LegacyQuantizers::q8_0)
            .vecDot(VecDotType.Q8_0, LegacyDots::q8_0).panelRows(Dequantizers::q8_0).ggml(MUL_MAT)),
    Q8_1(9, "q8_1", 32, 36, new Traits()),
    Q2_K(10, "q2_K", Q2_KBlock.WEIGHTS, Q2_KBlock.BYTES, new Traits()
            .toFloat(Q2_KBlock::dequantize).fromFloat(KQuantizers::q2_K)
            .vecDot(VecDotType.Q8_K, KQuantDots::q2_K).panelRows(Dequantizers::q2_K).ggml(VEC_DOT)),
    Q3_K(11, "q3_K", Q3_KBlock.WEIGHTS, Q3_KBlock.BYTES, new Traits()
            .toFloat(Q3_KBlock::dequantize).fromFloat(KQuantizers::q3_K)
            .vecDot(VecDotType.Q8_K, KQuantDots::q3_K).panelRows(Dequantizers::q3_K).ggml(VEC_DOT)),
    Q4_K(12, "q4_K", Q4_KBlock.WEIGHTS, Q4_KBlock.BYTES, new Traits()
            .toFloat(Q4_KBlock::dequantize).fromFloat(KQuantizers::q4_K)
            .vecDot(VecDotType.Q8_K, KQuantDots::q4_K).panelRows(Dequantizers::q4_K).ggml(VEC_DOT)),
    Q5_K(13, "q5_K", Q5_KBlock.WEIGHTS, Q5_KBlock.BYTES, new Traits()
            .toFloat(Q5_KBlock::dequantize).fromFloat(KQuantizers::q5_K)
            .vecDot(VecDotType.Q8_K, KQuantDots::q5_K).panelRows(Dequantizers::q5_K).ggml(VEC_DOT)),
    Q6_K(14, "q6_K", Q6_KBlock.WEIGHTS, Q6_KBlock.BYTES, new Traits()
            .toFloat(Q6_KBlock::dequantize).fromFloat(KQuantizers::q6_K)
            .vecDot(VecDotType.Q8_K, KQuantDots::q6_K).panelRows(Dequantizers::q6_K).ggml(VEC_DOT)),
    Q8_K(15, "q8_K", Q8_KBlock.WEIGHTS, Q8_KBlock.BYTES, new Traits()
            .toFloat(Q8_KBlock::dequantize).fromFloat(KQuantizers::q8_K)),
    IQ2_XXS(16, "iq2_xxs", IQ2_XXSBlock.WEIGHTS, IQ2_XXSBlock.BYTES, new Traits()
            .toFloat(IQ2_XXSBlock::dequantize).fromFloatWithImportance(IQ2Quantizers::iq2_xxs).vecDot(VecDotType.Q8_K, IQuantDots::iq2_xxs).ggml(IQ_PANELS)),
    IQ2_XS(17, "iq2_xs", IQ2_XSBlock.WEIGHTS, IQ2_XSBlock.BYTES, new Traits()
            .toFloat(IQ2_XSBlock::dequantize).fromFloatWithImportance(IQ2Quantizers::iq2_xs).vecDot(VecDotType.Q8_K, IQuantDots::iq2_xs).ggml(IQ_PANELS)),
    IQ3_XXS(18, "iq3_xxs", IQ3_XXSBlock.WEIGHTS, IQ3_XXSBlock.BYTES, new Traits()
            .toFloat(IQ3_XXSBlock::dequantize).fromFloat(IQ3Quantizers::iq3_xxs).vecDot(VecDotType.Q8_K, IQuantDots::iq3_xxs).ggml(IQ_PANELS)),
    IQ1_S(19, "iq1_s", IQ1_SBlock.WEIGHTS, IQ1_SBlock.BYTES, new Traits()
            .toFloat(IQ1_SBlock::dequantize).fromFloatWithImportance(IQ1Quantizers::iq1_s).vecDot(VecDotType.Q8_K, IQuantDots::iq1_s).ggml(IQ_PANELS)),
    IQ4_NL(20, "iq4_nl", IQ4_NLBlock.WEIGHTS, IQ4_NLBlock.BYTES, new Traits()
            .toFloat(IQ4_NLBlock::dequantize).fromFloat(NonLinearQuantizers::iq4_nl)
            .vecDot(VecDotType.Q8_0, LegacyDots::iq4_nl).ggml(MUL_MAT)),
    IQ3_S(21, "iq3_s", IQ3_SBlock.WEIGHTS, IQ3_SBlock.BYTES, new Traits()
            .toFloat(IQ3_SBlock::dequantize).fromFloat(IQ3Quantizers::iq3_s).vecDot(VecDotType.Q8_K, IQuantDots::iq3_s).ggml(IQ_PANELS)),
    IQ2_S(22, "iq2_s", IQ2_SBlock.WEIGHTS, IQ2_SBlock.BYTES, new Traits()
            .toFloat(IQ2_SBlock::dequantize).fromFloat(IQ2Quantizers::iq2_s).vecDot(VecDotType.Q8_K, IQuantDots::iq2_s).ggml(IQ_PANELS)),
    IQ4_XS(23, "iq4_xs", IQ4_XSBlock.WEIGHTS, IQ4_XSBlock.BYTES, new Traits()
            .toFloat(IQ4_XSBlock::dequantize).fromFloat(NonLinearQuantizers::iq4_xs)
            .vecDot(VecDotType.Q8_K, KQuantDots::iq4_xs).panelRows(Dequantizers::iq4_xs).ggml(IQ_PANELS)),
    I8(24, "i8", 1, 1, new Traits()),
    I16(25, "i16", 1, 2, new Traits()),
    I32(26, "i32", 1, 4, new Traits()),
    I64(27, "i64", 1, 8, new Traits()),
    F64(28, "f64", 1, 8, new Traits()),
    IQ1_M(29, "iq1_m", IQ1_MBlock.WEIGHTS, IQ1_MBlock.BYTES, new Traits()
            .toFloat(IQ1_MBlock::dequantize).fromFloat(IQ1Quantizers::iq1_m).vecDot(VecDotType.Q8_K, IQuantDots::iq1_m).ggml(IQ_PANELS)),
    BF16(30, "bf16", 1, 2, new Traits()
            .toFloat((blocks, offset, dst, i) -> dst[i] = FloatFormats.bf16ToF32(LittleEndian.u16(blocks, offset)))
            .fromFloat(FloatConverters::toBF16).vecDot(VecDotType.BF16, FloatDots::bf16).ggml(FLOAT_TILES)),
    TQ1_0(34, "tq1_0", 256, 54, new Traits()),
    TQ2_0(35, "tq2_0", 256, 66, new Traits()),
    MXFP4(39, "mxfp4", MXFP4Block.WEIGHTS, MXFP4Block.BYTES, new Traits().toFloat(MXFP4Block::dequantize).ggml(MUL_MAT)),
    NVFP4(40, "nvfp4", 64, 36, new Traits()),
    Q1_0(41, "q1_0", 128, 18, new Traits()),
    Q2_0(42, "q2_0", 64, 18, new Traits()),
    /**
     * Not a ggml type: FP8 E4M3 weights (one byte each) with f32 scales per block of rows and columns, stored apart
     * ({@link BlockScales}), as Hugging Face checkpoints of DeepSeek-V3 and GLM-5-FP8 hold them; glmj's engine runs
     * such checkpoints as they are. It has no GGUF id, and ggml no kernel: the vector kernels multiply it.
     */
    FP8_E4M3(Ids.NONE, "fp8_e4m3", 1, 1, new Traits().scaledRows(VecDotType.F32, Fp8Rows::decodeRow));

    /**
     * A row's columns after the layout, named as they are set: a type without a column has none of that (no
     * dequantizer, no kernel). ggml's own kernel for a type is read from ggml's table by the ggml backend.
     */
    /** Ids outside ggml's. */
    private static final class Ids {
        /** The id of a type GGUF files cannot hold. */
        static final int NONE = -1;
    }

    static final class Traits {
        private BlockDecoder toFloat;
        private RowQuantizer fromFloat;
        private boolean needsImportance;
        private VecDotType vecDotType;
        private DotKernel vecDot;
        private RowDecoder panelRows;
        private ScaledRowDecoder scaledRows;
        private GgmlPrompt ggml = GgmlPrompt.NONE;

        /** The dequantizer, bit-exact with ggml's {@code to_float}. */
        Traits toFloat(BlockDecoder decoder) {
            this.toFloat = decoder;
            return this;
        }

        /** The quantizer, byte for byte ggml's {@code ggml_quantize_chunk} with or without an importance matrix. */
        Traits fromFloat(RowQuantizer quantizer) {
            this.fromFloat = quantizer;
            return this;
        }

        /** A quantizer that needs an importance matrix, as {@code ggml_quantize_requires_imatrix} says. */
        Traits fromFloatWithImportance(RowQuantizer quantizer) {
            this.needsImportance = true;
            return fromFloat(quantizer);
        }

        /** What the dot products read the activations as ({@code vec_dot_type}), and the vector backend's dot kernel. */
        Traits vecDot(VecDotType type, DotKernel kernel) {
            this.vecDotType = type;
            this.vecDot = kernel;
            return this;
        }

        /** A vector decoder of whole rows for the prompt panels, bit-exact with the dequantizer (else the dequantizer runs). */
        Traits panelRows(RowDecoder decoder) {
            this.panelRows = decoder;
            return this;
        }

        /**
         * A block-scaled type's activation form and its row decoder, which applies the scales: the vector kernels
         * multiply its rows decoded, in the activation form's order (for f32, {@code ggml_vec_dot_f32}'s).
         */
        Traits scaledRows(VecDotType type, ScaledRowDecoder decoder) {
            this.vecDotType = type;
            this.scaledRows = decoder;
            return this;
        }

        /** The kernel ggml's {@code mul_mat} gives a batch of this type. */
        Traits ggml(GgmlPrompt kernel) {
            this.ggml = kernel;
            return this;
        }
    }

    private static final GGMLType[] BY_ID = new GGMLType[43];

    static {
        for (GGMLType type : values()) {
            if (type.id != Ids.NONE) {
                BY_ID[type.id] = type;
            }
        }
    }

    /** The id stored in GGUF tensor infos and used by ggml's {@code enum ggml_type}; -1 for a type neither has. */
    public final int id;
    /** ggml's own name for the type, as {@code ggml_type_name} prints it. */
    public final String ggmlName;
    /** Weights per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int typeSize;
    private final BlockDecoder decoder;
    private final RowQuantizer quantizer;
    private final boolean quantizerNeedsImportance;
    private final VecDotType vecDotType;
    private final DotKernel dotKernel;
    private final RowDecoder rowDecoder;
    private final boolean vectorRows;
    private final ScaledRowDecoder scaledRowDecoder;
    private final GgmlPrompt ggmlPrompt;

    GGMLType(int id, String ggmlName, int blockSize, int typeSize, Traits traits) {
        this.id = id;
        this.ggmlName = ggmlName;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.decoder = traits.toFloat;
        this.quantizer = traits.fromFloat;
        this.quantizerNeedsImportance = traits.needsImportance;
        this.vecDotType = traits.vecDotType;
        this.dotKernel = traits.vecDot;
        this.vectorRows = traits.panelRows != null;
        this.rowDecoder = traits.panelRows != null ? traits.panelRows
                : traits.toFloat != null ? (w, offset, dst, at, cols) -> dequantize(w, offset, dst, at, cols) : null;
        this.scaledRowDecoder = traits.scaledRows;
        this.ggmlPrompt = traits.ggml;
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

    /** The quantizer ({@code ggml_quantize_chunk}'s), or {@code null} when glmj cannot write this type. */
    public RowQuantizer quantizer() {
        return quantizer;
    }

    /** Whether {@link #quantizer} needs an importance matrix. */
    public boolean quantizerNeedsImportance() {
        return quantizerNeedsImportance;
    }

    /** What the vector backend's dot products read the activations as, or {@code null} when it cannot multiply this type. */
    public VecDotType vecDotType() {
        return vecDotType;
    }

    /** The vector backend's dot kernel, or {@code null} when it cannot multiply this type. */
    public DotKernel dotKernel() {
        return dotKernel;
    }

    /** Decodes whole rows: with vector code where {@link #decodesRowsInVectors()}, else the dequantizer; null if unreadable. */
    public RowDecoder rowDecoder() {
        return rowDecoder;
    }

    /** Whether {@link #rowDecoder} is vector code rather than the scalar dequantizer. */
    public boolean decodesRowsInVectors() {
        return vectorRows;
    }

    /** Whether weights of this type come with {@link BlockScales} (and decode only with them, {@link #scaledRowDecoder}). */
    public boolean isBlockScaled() {
        return scaledRowDecoder != null;
    }

    /** The row decoder of a block-scaled type, which applies the scales; null for every other type. */
    public ScaledRowDecoder scaledRowDecoder() {
        return scaledRowDecoder;
    }

    /** Whether the vector kernels multiply this type: by its dot kernel, or by its rows decoded with their scales. */
    public boolean isVectorMultiplied() {
        return dotKernel != null || scaledRowDecoder != null;
    }

    /** Whether GGUF files can hold this type. */
    public boolean hasGgufId() {
        return id != Ids.NONE;
    }

    /** The kernel ggml's {@code mul_mat} gives a batch of this type ({@link GgmlPrompt#NONE} where ggml has none). */
    public GgmlPrompt ggmlPrompt() {
        return ggmlPrompt;
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
