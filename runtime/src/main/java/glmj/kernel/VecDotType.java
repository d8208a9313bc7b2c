package glmj.kernel;

import glmj.tensor.GGMLType;

/**
 * What a weight type's dot kernel reads its activations as, ggml's {@code vec_dot_type}: kept f32, rounded to f16 or
 * bf16, or quantized to 8 bits in blocks of 32 (q8_0, and q8_1 which adds each block's scaled sum) or 256 (q8_K).
 * Each weight type names its own in its row of
 * {@link GGMLType}.
 */
public enum VecDotType {
    F32(1), F16(1), BF16(1), Q8_0(32), Q8_1(32), Q8_K(256);

    /** Activations per block. */
    public final int blockSize;

    VecDotType(int blockSize) {
        this.blockSize = blockSize;
    }

    /** Whether activations become 8-bit quants, which a prompt's decoded panels multiply as floats. */
    public boolean quantized() {
        return this == Q8_0 || this == Q8_1 || this == Q8_K;
    }

    /** The ggml type of this form, as ggml's type traits name it. */
    public GGMLType ggmlType() {
        return switch (this) {
            case F32 -> GGMLType.F32;
            case F16 -> GGMLType.F16;
            case BF16 -> GGMLType.BF16;
            case Q8_0 -> GGMLType.Q8_0;
            case Q8_1 -> GGMLType.Q8_1;
            case Q8_K -> GGMLType.Q8_K;
        };
    }
}
