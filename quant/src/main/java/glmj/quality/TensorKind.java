package glmj.quality;

/** What a glm-dsa tensor does, the groups weight errors are aggregated by. */
public enum TensorKind {
    EMBEDDINGS("embeddings"),
    ATTENTION("attention"),
    INDEXER("indexer"),
    DENSE_FFN("dense FFN"),
    ROUTER("router"),
    EXPERT_GATE("experts gate"),
    EXPERT_UP("experts up"),
    EXPERT_DOWN("experts down"),
    SHARED_EXPERT("shared expert"),
    MTP("MTP"),
    NORMS("norms"),
    OUTPUT("output");

    /** The name in tables, JSON and CSV. */
    public final String label;

    TensorKind(String label) {
        this.label = label;
    }

    /** The kind of the GGUF tensor {@code name}. */
    public static TensorKind of(String name) {
        String local = name.startsWith("blk.") ? name.substring(name.indexOf('.', 4) + 1) : name;
        if (local.startsWith("indexer.")) {
            return INDEXER;
        }
        if (local.endsWith("norm.weight")) {
            return NORMS;
        }
        if (local.startsWith("token_embd.") || local.startsWith("nextn.embed_tokens.")) {
            return EMBEDDINGS;
        }
        if (local.startsWith("output.") || local.startsWith("nextn.shared_head_head.")) {
            return OUTPUT;
        }
        if (local.startsWith("nextn.")) {
            return MTP;
        }
        if (local.startsWith("attn_")) {
            return ATTENTION;
        }
        if (local.startsWith("ffn_gate_inp.") || local.startsWith("exp_probs_b.")) {
            return ROUTER;
        }
        if (local.contains("_exps.")) {
            return local.startsWith("ffn_gate") ? EXPERT_GATE : local.startsWith("ffn_up") ? EXPERT_UP : EXPERT_DOWN;
        }
        if (local.contains("_shexp.")) {
            return SHARED_EXPERT;
        }
        if (local.startsWith("ffn_")) {
            return DENSE_FFN;
        }
        throw new IllegalArgumentException("no kind for glm-dsa tensor '" + name + "'");
    }

    /** The block of {@code name}, or -1 for a tensor outside the blocks. */
    public static int layerOf(String name) {
        return name.startsWith("blk.") ? Integer.parseInt(name.substring(4, name.indexOf('.', 4))) : -1;
    }

    public static TensorKind ofLabel(String label) {
        for (TensorKind kind : values()) {
            if (kind.label.equals(label)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("no tensor kind '" + label + "'");
    }
}
