package glmj.kernel;

import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;

/**
 * The dot product of one weight row, read in its stored form straight from the mapped file, with one row of
 * {@link Activations}, computed as ggml's {@code vec_dot} for the weight type computes it: 8-bit products summed
 * exactly as integers within each block, then scaled in float.
 */
interface DotKernel {

    /** The row of {@code cols} weights at byte {@code offset} of {@code w} dotted with activation row {@code row}. */
    float dot(MemorySegment w, long offset, Activations a, int row);

    /** The kernel for weights of {@code type}: ggml's type-traits table, for dot products. */
    static DotKernel of(GGMLType type) {
        return switch (type) {
            case F32 -> FloatDots::f32;
            case F16 -> FloatDots::f16;
            case BF16 -> FloatDots::bf16;
            case Q8_0 -> LegacyDots::q8_0;
            case IQ4_NL -> LegacyDots::iq4_nl;
            case Q2_K -> KQuantDots::q2_K;
            case Q3_K -> KQuantDots::q3_K;
            case Q4_K -> KQuantDots::q4_K;
            case Q5_K -> KQuantDots::q5_K;
            case Q6_K -> KQuantDots::q6_K;
            case IQ4_XS -> KQuantDots::iq4_xs;
            case IQ2_XXS -> IQuantDots::iq2_xxs;
            case IQ2_XS -> IQuantDots::iq2_xs;
            case IQ2_S -> IQuantDots::iq2_s;
            case IQ3_XXS -> IQuantDots::iq3_xxs;
            case IQ3_S -> IQuantDots::iq3_s;
            case IQ1_S -> IQuantDots::iq1_s;
            case IQ1_M -> IQuantDots::iq1_m;
            default -> throw new IllegalArgumentException("no dot kernel for weights of type " + type.ggmlName);
        };
    }
}
