package glmj.gguf;

import java.util.ArrayList;
import java.util.List;

/**
 * Which weight bytes decoding reads, of a model in llama.cpp's tensor naming: what decoding speed is bounded by when
 * memory bandwidth is the limit (tokens/s at most bandwidth / {@link #perToken}), and what must stay in memory for
 * decoding not to read the file from disk ({@link #workingSet}).
 *
 * @param everyToken     bytes every one-token step reads whole: every tensor of the trunk's blocks and the output head
 *                       but the routed experts, and one row of the token embeddings (all of them when they double as
 *                       the head)
 * @param routedExperts  bytes of the trunk's routed-expert tensors ({@code ffn_gate_exps} ...), of which a step reads
 *                       the {@code expert_used_count} experts the router picks in each block
 * @param routedPerToken bytes of routed experts one step reads: {@code expert_used_count} experts' share of each
 */
public record ActiveWeights(long everyToken, long routedExperts, long routedPerToken) {
    private static final String TOKEN_EMBEDDINGS = "token_embd.weight";
    private static final String OUTPUT_HEAD = "output.weight";
    /** Routed experts are stacked into one tensor per matrix ({@code ffn_gate_exps} ...), the expert index last. */
    private static final String ROUTED_EXPERTS = "_exps.";

    /**
     * The weights of {@code file} that decoding reads: nothing of the MTP blocks ({@code nextn_predict_layers}, last),
     * which decoding does not run, nor of the token embeddings but a row per token.
     */
    public static ActiveWeights of(TensorSource file) {
        int expertsUsed = file.metadata().getInt(file.metadata().getString("general.architecture") + ".expert_used_count", 0);
        Reader reader = new Reader(file);
        long everyToken = 0, routedExperts = 0, routedPerToken = 0;
        for (TensorInfo tensor : file.tensors()) {
            switch (reader.read(tensor)) {
                case NOT_READ -> { }
                case A_ROW -> everyToken += tensor.rowByteSize();
                case EVERY_STEP -> everyToken += tensor.byteSize();
                case ROUTED_EXPERTS -> {
                    long stackedExperts = tensor.dim(tensor.dimensionCount() - 1);
                    routedExperts += tensor.byteSize();
                    routedPerToken += tensor.byteSize() / stackedExperts * expertsUsed;
                }
            }
        }
        return new ActiveWeights(everyToken, routedExperts, routedPerToken);
    }

    /**
     * The tensors of {@code file} that decoding reads whole, in the file's order: those every step reads, and with
     * {@code routedExperts} the routed experts too; not the token embeddings, of which a step reads a row.
     */
    public static List<TensorInfo> readWhole(TensorSource file, boolean routedExperts) {
        Reader reader = new Reader(file);
        List<TensorInfo> read = new ArrayList<>();
        for (TensorInfo tensor : file.tensors()) {
            Read how = reader.read(tensor);
            if (how == Read.EVERY_STEP || (routedExperts && how == Read.ROUTED_EXPERTS)) {
                read.add(tensor);
            }
        }
        return read;
    }

    /** How decoding reads a tensor. */
    private enum Read { NOT_READ, A_ROW, EVERY_STEP, ROUTED_EXPERTS }

    /** Which tensors decoding reads, and how, in a model of llama.cpp's tensor naming. */
    private record Reader(int trunkBlocks, boolean embeddingsAreTheHead) {
        Reader(TensorSource file) {
            this(trunkBlocks(file.metadata()), file.findTensor(OUTPUT_HEAD).isEmpty());
        }

        private static int trunkBlocks(Metadata metadata) {
            String architecture = metadata.getString("general.architecture") + ".";
            return metadata.getInt(architecture + "block_count") - metadata.getInt(architecture + "nextn_predict_layers", 0);
        }

        Read read(TensorInfo tensor) {
            String name = tensor.name();
            if (blockOf(name) >= trunkBlocks) {
                return Read.NOT_READ;
            }
            if (name.equals(TOKEN_EMBEDDINGS) && !embeddingsAreTheHead) {
                return Read.A_ROW;
            }
            return name.contains(ROUTED_EXPERTS) ? Read.ROUTED_EXPERTS : Read.EVERY_STEP;
        }
    }

    /** The bytes of weights a one-token step reads. */
    public long perToken() {
        return everyToken + routedPerToken;
    }

    /** The bytes decoding reads sooner or later: all it reads every step, and every routed expert. */
    public long workingSet() {
        return everyToken + routedExperts;
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
