package glmj.quant;

import glmj.tensor.GGMLType;

import java.util.List;

/**
 * What llama-quantize decides whatever the mix ({@code src/llama-quant.cpp} of llama.cpp v0.5.0): which tensors it
 * quantizes at all, the type a tensor falls back to when its rows are not whole blocks of the type it was given, and
 * which types need an importance matrix.
 */
public final class QuantizeRules {
    /** Names llama-quantize never quantizes ({@code tensor_allows_quantization}), matched anywhere in the name. */
    private static final List<String> NEVER_QUANTIZED = List.of(
            "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
            "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
            "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
            "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight",
            "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
            "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd",
            "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook",
            "mm.a.code_embd");
    /** Whole names llama-quantize never quantizes: positional embeddings and token types. */
    private static final List<String> NEVER_QUANTIZED_NAMES = List.of("position_embd.weight", "token_types.weight");

    private QuantizeRules() {
    }

    /**
     * Whether llama-quantize quantizes a tensor: matrices (ggml counts dimensions up to the last one above 1) whose name
     * ends in {@code weight}, but for norms, the MoE router and the other small or positional tensors it names.
     */
    public static boolean allowsQuantization(String name, long[] shape) {
        if (dimensions(shape) < 2 || !name.endsWith("weight") || NEVER_QUANTIZED_NAMES.contains(name)) {
            return false;
        }
        for (String part : NEVER_QUANTIZED) {
            if (name.contains(part)) {
                return false;
            }
        }
        return true;
    }

    /** {@code ggml_n_dims}: the dimensions up to the last one above 1 (at least 1). */
    private static int dimensions(long[] shape) {
        for (int i = shape.length - 1; i >= 1; i--) {
            if (shape[i] > 1) {
                return i + 1;
            }
        }
        return 1;
    }

    /**
     * The type a tensor with rows of {@code rowLength} weights gets instead of {@code type} ({@code type} itself when
     * its rows are whole blocks): llama-quantize's {@code tensor_type_fallback}, 256-weight IQ types to IQ4_NL, Q2_K and
     * Q3_K to Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, and F16 when even that does not fit.
     */
    public static GGMLType fallback(GGMLType type, long rowLength) {
        if (rowLength % type.blockSize == 0) {
            return type;
        }
        GGMLType fallback = switch (type) {
            case IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS -> GGMLType.IQ4_NL;
            case Q2_0, Q2_K, Q3_K, TQ1_0, TQ2_0 -> GGMLType.Q4_0;
            case Q4_K -> GGMLType.Q5_0;
            case Q5_K -> GGMLType.Q5_1;
            case Q6_K -> GGMLType.Q8_0;
            default -> {
                if (type.blockSize > 32) {
                    throw new IllegalArgumentException("no tensor type fallback is defined for type " + type.ggmlName);
                }
                yield type;
            }
        };
        return rowLength % fallback.blockSize == 0 ? fallback : GGMLType.F16;
    }

    /**
     * Whether llama-quantize refuses to write {@code type} for tensor {@code name} without an importance matrix
     * ({@code tensor_requires_imatrix}): the IQ1, IQ2 and IQ3_XXS types, and Q2_K in a Q2_K_S file; never the token
     * embeddings or the output head.
     */
    public static boolean requiresImportance(String name, GGMLType type, FileType fileType) {
        if (name.equals("token_embd.weight") || name.equals("per_layer_token_embd.weight") || name.equals("output.weight")) {
            return false;
        }
        return switch (type) {
            case IQ3_XXS, IQ2_XXS, IQ2_XS, IQ2_S, IQ1_M, IQ1_S -> true;
            case Q2_K -> fileType == FileType.Q2_K_S;
            default -> false;
        };
    }
}
