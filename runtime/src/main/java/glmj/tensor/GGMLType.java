package glmj.tensor;

/**
 * Every tensor type llama.cpp v0.5.0 (ggml 0.25.1) defines, with its GGUF id, ggml name, and block geometry:
 * {@code blockSize} weights are stored in {@code typeSize} bytes. Ids missing from the sequence were removed from ggml.
 */
public enum GGMLType {
    F32(0, "f32", 1, 4),
    F16(1, "f16", 1, 2),
    Q4_0(2, "q4_0", 32, 18),
    Q4_1(3, "q4_1", 32, 20),
    Q5_0(6, "q5_0", 32, 22),
    Q5_1(7, "q5_1", 32, 24),
    Q8_0(8, "q8_0", 32, 34),
    Q8_1(9, "q8_1", 32, 36),
    Q2_K(10, "q2_K", 256, 84),
    Q3_K(11, "q3_K", 256, 110),
    Q4_K(12, "q4_K", 256, 144),
    Q5_K(13, "q5_K", 256, 176),
    Q6_K(14, "q6_K", 256, 210),
    Q8_K(15, "q8_K", 256, 292),
    IQ2_XXS(16, "iq2_xxs", 256, 66),
    IQ2_XS(17, "iq2_xs", 256, 74),
    IQ3_XXS(18, "iq3_xxs", 256, 98),
    IQ1_S(19, "iq1_s", 256, 50),
    IQ4_NL(20, "iq4_nl", 32, 18),
    IQ3_S(21, "iq3_s", 256, 110),
    IQ2_S(22, "iq2_s", 256, 82),
    IQ4_XS(23, "iq4_xs", 256, 136),
    I8(24, "i8", 1, 1),
    I16(25, "i16", 1, 2),
    I32(26, "i32", 1, 4),
    I64(27, "i64", 1, 8),
    F64(28, "f64", 1, 8),
    IQ1_M(29, "iq1_m", 256, 56),
    BF16(30, "bf16", 1, 2),
    TQ1_0(34, "tq1_0", 256, 54),
    TQ2_0(35, "tq2_0", 256, 66),
    MXFP4(39, "mxfp4", 32, 17),
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

    GGMLType(int id, String ggmlName, int blockSize, int typeSize) {
        this.id = id;
        this.ggmlName = ggmlName;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
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
}
