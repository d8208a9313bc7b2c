package glmj.gguf;

/**
 * How many bytes of weights one decode step reads from a model in llama.cpp's tensor naming: what decoding speed is
 * bounded by when memory bandwidth is the limit (tokens/s at most bandwidth / these bytes).
 */
public final class ActiveWeights {
    private static final String TOKEN_EMBEDDINGS = "token_embd.weight";
    private static final String OUTPUT_HEAD = "output.weight";
    /** Routed experts are stacked into one tensor per matrix ({@code ffn_gate_exps} ...), the expert index last. */
    private static final String ROUTED_EXPERTS = "_exps.";

    private ActiveWeights() {
    }

    /**
     * The bytes of every tensor a one-token step reads: all of each tensor of the trunk's blocks and of the output
     * head, but one row of the token embeddings (the whole of them when they double as the head), the
     * {@code expert_used_count} experts' share of each routed-expert tensor, and nothing of the MTP blocks
     * ({@code nextn_predict_layers}, last), which decoding does not run.
     */
    public static long bytesPerToken(TensorSource file) {
        Metadata metadata = file.metadata();
        String architecture = metadata.getString("general.architecture") + ".";
        int trunkBlocks = metadata.getInt(architecture + "block_count") - metadata.getInt(architecture + "nextn_predict_layers", 0);
        int expertsUsed = metadata.getInt(architecture + "expert_used_count", 0);
        boolean embeddingsAreTheHead = file.findTensor(OUTPUT_HEAD).isEmpty();
        long bytes = 0;
        for (TensorInfo tensor : file.tensors()) {
            String name = tensor.name();
            if (blockOf(name) >= trunkBlocks) {
                continue;
            }
            if (name.equals(TOKEN_EMBEDDINGS) && !embeddingsAreTheHead) {
                bytes += tensor.rowByteSize();
            } else if (name.contains(ROUTED_EXPERTS)) {
                long stackedExperts = tensor.dim(tensor.dimensionCount() - 1);
                bytes += tensor.byteSize() / stackedExperts * expertsUsed;
            } else {
                bytes += tensor.byteSize();
            }
        }
        return bytes;
    }

    /** The block of a {@code blk.N.} tensor; -1 for the tensors outside the blocks. */
    public static int blockOf(String name) {
        String prefix = "blk.";
        int end = name.indexOf('.', prefix.length());
        if (!name.startsWith(prefix) || end < 0) {
            return -1;
        }
        try {
            return Integer.parseInt(name, prefix.length(), end, 10);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
