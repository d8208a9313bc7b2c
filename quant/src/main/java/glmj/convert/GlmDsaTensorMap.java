package glmj.convert;

import glmj.hf.CheckpointFormatException;
import glmj.hf.CheckpointTensor;
import glmj.hf.HfCheckpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GLM-5's checkpoint names mapped to the glm-dsa GGUF's tensors, as llama.cpp's {@code convert_hf_to_gguf.py}
 * ({@code GlmMoeDsaModel}, a {@code DeepseekV2Model}, and gguf-py's {@code tensor_mapping.py}) maps them, with the
 * same GGUF shapes and element order: each {@code [out, in]} matrix becomes {@code {in, out}} with the same bytes; the
 * routed experts of a layer are stacked into {@code ffn_*_exps} {@code {in, out, experts}}; {@code kv_b_proj}
 * {@code [heads * (nope + v), kv_lora]} is split per head into {@code attn_k_b} {@code {nope, kv_lora, heads}} (the
 * nope rows transposed) and {@code attn_v_b} {@code {kv_lora, v, heads}}; {@code e_score_correction_bias} becomes
 * {@code exp_probs_b.bias}; the MTP layers after the trunk become blocks with {@code nextn.*} tensors.
 *
 * <p>Every checkpoint weight must map to a GGUF tensor, and every GGUF tensor the config implies must find its
 * weights, each of the shape the config implies; otherwise the map is refused in one line naming the tensors. The
 * tensors are in the order glmj writes them: embeddings, each block (attention, indexer, FFN, then the MTP parts),
 * output norm and head.
 */
public final class GlmDsaTensorMap {
    private final GlmMoeDsaConfig config;
    private final List<ConvertedTensor> tensors;

    private GlmDsaTensorMap(GlmMoeDsaConfig config, List<ConvertedTensor> tensors) {
        this.config = config;
        this.tensors = List.copyOf(tensors);
    }

    /**
     * The GGUF tensors of {@code checkpoint}.
     *
     * @throws CheckpointFormatException when the config is not GLM-5's, a weight is missing or of the wrong shape, or
     *                                   a weight has no counterpart
     */
    public static GlmDsaTensorMap of(HfCheckpoint checkpoint) {
        Path configFile = checkpoint.directory().resolve(HfCheckpoint.CONFIG);
        GlmMoeDsaConfig config = GlmMoeDsaConfig.of(configFile, checkpoint.config());
        return new Builder(checkpoint, config).build();
    }

    public GlmMoeDsaConfig config() {
        return config;
    }

    /** Every GGUF tensor, in writing order. */
    public List<ConvertedTensor> tensors() {
        return tensors;
    }

    /** Bytes of the checkpoint the tensors read. */
    public long sourceBytes() {
        return tensors.stream().mapToLong(ConvertedTensor::sourceBytes).sum();
    }

    /** Collects the tensors, tracking which weights were used. */
    private static final class Builder {
        private final HfCheckpoint checkpoint;
        private final GlmMoeDsaConfig c;
        private final Set<String> used = new LinkedHashSet<>();
        private final List<ConvertedTensor> out = new ArrayList<>();

        Builder(HfCheckpoint checkpoint, GlmMoeDsaConfig config) {
            this.checkpoint = checkpoint;
            this.c = config;
        }

        GlmDsaTensorMap build() {
            int embd = c.hiddenSize();
            direct("token_embd.weight", "model.embed_tokens.weight", c.vocabularySize(), embd);
            for (int il = 0; il < c.blockCount(); il++) {
                block(il);
            }
            direct("output_norm.weight", "model.norm.weight", embd);
            if (!c.tieWordEmbeddings() || checkpoint.findWeight("lm_head.weight").isPresent()) {
                direct("output.weight", "lm_head.weight", c.vocabularySize(), embd);
            }
            Map<String, CheckpointTensor> unused = new LinkedHashMap<>(checkpoint.weights());
            unused.keySet().removeAll(used);
            if (!unused.isEmpty()) {
                List<String> names = List.copyOf(unused.keySet());
                String shown = String.join(", ", names.subList(0, Math.min(8, names.size())));
                throw new CheckpointFormatException(checkpoint.directory(), names.size() + " checkpoint tensor"
                        + (names.size() == 1 ? " has" : "s have") + " no glm-dsa counterpart: " + shown
                        + (names.size() > 8 ? ", ..." : ""));
            }
            return new GlmDsaTensorMap(c, out);
        }

        private void block(int il) {
            int embd = c.hiddenSize();
            int heads = c.headCount();
            String b = "blk." + il + ".";
            String l = "model.layers." + il + ".";
            direct(b + "attn_norm.weight", l + "input_layernorm.weight", embd);
            direct(b + "attn_q_a.weight", l + "self_attn.q_a_proj.weight", c.qLoraRank(), embd);
            direct(b + "attn_q_a_norm.weight", l + "self_attn.q_a_layernorm.weight", c.qLoraRank());
            direct(b + "attn_q_b.weight", l + "self_attn.q_b_proj.weight",
                    (long) heads * (c.qkNopeHeadDim() + c.qkRopeHeadDim()), c.qLoraRank());
            direct(b + "attn_kv_a_mqa.weight", l + "self_attn.kv_a_proj_with_mqa.weight", c.kvLoraRank() + c.qkRopeHeadDim(), embd);
            direct(b + "attn_kv_a_norm.weight", l + "self_attn.kv_a_layernorm.weight", c.kvLoraRank());
            CheckpointTensor kvB = weight(l + "self_attn.kv_b_proj.weight",
                    (long) heads * (c.qkNopeHeadDim() + c.vHeadDim()), c.kvLoraRank());
            out.add(new HeadKeys(b + "attn_k_b.weight", kvB, heads, c.qkNopeHeadDim(), c.vHeadDim()));
            out.add(Rows.grouped(b + "attn_v_b.weight", new long[]{c.kvLoraRank(), c.vHeadDim(), heads}, kvB,
                    c.vHeadDim(), c.qkNopeHeadDim() + c.vHeadDim(), c.qkNopeHeadDim()));
            direct(b + "attn_output.weight", l + "self_attn.o_proj.weight", embd, (long) heads * c.vHeadDim());
            if (c.hasIndexer(il)) {
                String x = l + "self_attn.indexer.";
                direct(b + "indexer.attn_q_b.weight", x + "wq_b.weight", (long) c.indexerHeadCount() * c.indexerHeadDim(), c.qLoraRank());
                direct(b + "indexer.attn_k.weight", x + "wk.weight", c.indexerHeadDim(), embd);
                direct(b + "indexer.k_norm.weight", x + "k_norm.weight", c.indexerHeadDim());
                direct(b + "indexer.k_norm.bias", x + "k_norm.bias", c.indexerHeadDim());
                direct(b + "indexer.proj.weight", x + "weights_proj.weight", c.indexerHeadCount(), embd);
            }
            direct(b + "ffn_norm.weight", l + "post_attention_layernorm.weight", embd);
            if (c.isDense(il)) {
                direct(b + "ffn_gate.weight", l + "mlp.gate_proj.weight", c.intermediateSize(), embd);
                direct(b + "ffn_up.weight", l + "mlp.up_proj.weight", c.intermediateSize(), embd);
                direct(b + "ffn_down.weight", l + "mlp.down_proj.weight", embd, c.intermediateSize());
            } else {
                int shared = c.moeIntermediateSize() * c.sharedExpertCount();
                direct(b + "ffn_gate_inp.weight", l + "mlp.gate.weight", c.expertCount(), embd);
                if (checkpoint.findWeight(l + "mlp.gate.e_score_correction_bias").isPresent()) {
                    direct(b + "exp_probs_b.bias", l + "mlp.gate.e_score_correction_bias", c.expertCount());
                }
                experts(b + "ffn_gate_exps.weight", l, "gate_proj", c.moeIntermediateSize(), embd);
                experts(b + "ffn_up_exps.weight", l, "up_proj", c.moeIntermediateSize(), embd);
                experts(b + "ffn_down_exps.weight", l, "down_proj", embd, c.moeIntermediateSize());
                direct(b + "ffn_gate_shexp.weight", l + "mlp.shared_experts.gate_proj.weight", shared, embd);
                direct(b + "ffn_up_shexp.weight", l + "mlp.shared_experts.up_proj.weight", shared, embd);
                direct(b + "ffn_down_shexp.weight", l + "mlp.shared_experts.down_proj.weight", embd, shared);
            }
            if (c.isNextn(il)) {
                direct(b + "nextn.eh_proj.weight", l + "eh_proj.weight", embd, 2L * embd);
                direct(b + "nextn.enorm.weight", l + "enorm.weight", embd);
                direct(b + "nextn.hnorm.weight", l + "hnorm.weight", embd);
                optional(b + "nextn.shared_head_norm.weight", l + "shared_head.norm.weight", embd);
                optional(b + "nextn.shared_head_head.weight", l + "shared_head.head.weight", c.vocabularySize(), embd);
                optional(b + "nextn.embed_tokens.weight", l + "embed_tokens.weight", c.vocabularySize(), embd);
            }
        }

        /** A GGUF tensor holding one weight as it is: shape reversed, the same elements in the same order. */
        private void direct(String gguf, String weight, long... hfShape) {
            CheckpointTensor t = weight(weight, hfShape);
            long[] shape = new long[hfShape.length];
            for (int i = 0; i < hfShape.length; i++) {
                shape[i] = hfShape[hfShape.length - 1 - i];
            }
            out.add(Rows.of(gguf, shape, t));
        }

        private void optional(String gguf, String weight, long... hfShape) {
            if (checkpoint.findWeight(weight).isPresent()) {
                direct(gguf, weight, hfShape);
            }
        }

        /** A layer's routed experts' {@code projection} weights, each {@code [rows, columns]}, stacked. */
        private void experts(String gguf, String layer, String projection, long rows, long columns) {
            CheckpointTensor[] experts = new CheckpointTensor[c.expertCount()];
            for (int e = 0; e < experts.length; e++) {
                experts[e] = weight(layer + "mlp.experts." + e + "." + projection + ".weight", rows, columns);
            }
            out.add(Rows.of(gguf, new long[]{columns, rows, experts.length}, experts));
        }

        /** The weight named {@code name}, checked to have {@code shape}, and marked used. */
        private CheckpointTensor weight(String name, long... shape) {
            CheckpointTensor t = checkpoint.findWeight(name).orElseThrow(() -> new CheckpointFormatException(
                    checkpoint.directory(), "tensor '" + name + "' is missing; config.json's GLM-5 needs it"));
            if (!Arrays.equals(shape, t.shape())) {
                throw new CheckpointFormatException(checkpoint.directory(), "tensor '" + name + "' has shape "
                        + Arrays.toString(t.shape()) + "; config.json's sizes give " + Arrays.toString(shape));
            }
            used.add(name);
            return t;
        }
    }

    /**
     * GGUF rows that are whole rows of the sources: row {@code r} is row {@code r % rowsPerSource} of source
     * {@code r / rowsPerSource}; with {@code groupRows} above 0 the rows of a source go in groups of that many, group
     * {@code g} starting at source row {@code g * groupStride + groupOffset}.
     */
    record Rows(String name, long[] shape, CheckpointTensor[] sourceArray, long rowsPerSource, long groupRows,
            long groupStride, long groupOffset) implements ConvertedTensor {

        /** Each source's rows in turn. */
        static Rows of(String name, long[] shape, CheckpointTensor... sources) {
            return new Rows(name, shape, sources, sources[0].rowCount(), 0, 0, 0);
        }

        /** One source's rows in groups of {@code groupRows}, {@code groupStride} apart from {@code groupOffset}. */
        static Rows grouped(String name, long[] shape, CheckpointTensor source, long groupRows, long groupStride, long groupOffset) {
            long rows = shape[1] * shape[2];
            return new Rows(name, shape, new CheckpointTensor[]{source}, rows, groupRows, groupStride, groupOffset);
        }

        @Override
        public List<CheckpointTensor> sources() {
            return List.of(sourceArray);
        }

        /** The share of the sources' bytes its rows hold. */
        @Override
        public long sourceBytes() {
            long rows = 0;
            long bytes = 0;
            for (CheckpointTensor t : sourceArray) {
                rows += t.rowCount();
                bytes += t.storedBytes();
            }
            return rows == 0 ? bytes : Math.round((double) bytes * rowCount() / rows);
        }

        @Override
        public void readRows(long firstRow, int rows, float[] dst, int at) {
            int length = rowLength();
            for (int i = 0; i < rows; i++) {
                long row = firstRow + i;
                long local = row % rowsPerSource;
                long sourceRow = groupRows == 0 ? local : local / groupRows * groupStride + groupOffset + local % groupRows;
                sourceArray[(int) (row / rowsPerSource)].read(sourceRow, 0, dst, at + i * length, length);
            }
        }
    }

    /**
     * {@code attn_k_b} {nope, kv_lora, heads}: per head, the nope rows of {@code kv_b_proj} transposed, so that GGUF row
     * {@code c + kv_lora * h} is column {@code c} of head {@code h}'s nope rows.
     */
    record HeadKeys(String name, CheckpointTensor kvB, int heads, int nope, int v) implements ConvertedTensor {
        /** A thread's piece of one source row, read in a run before it is spread across the transposed rows. */
        private static final ThreadLocal<float[]> PIECE = ThreadLocal.withInitial(() -> new float[0]);

        @Override
        public long[] shape() {
            return new long[]{nope, kvB.rowLength(), heads};
        }

        @Override
        public List<CheckpointTensor> sources() {
            return List.of(kvB);
        }

        @Override
        public long sourceBytes() {
            return kvB.storedBytes() * nope / (nope + v);
        }

        /** Head by head: each of its nope rows' columns for these rows, read in one run, then spread with stride nope. */
        @Override
        public void readRows(long firstRow, int rows, float[] dst, int at) {
            long kvLora = kvB.rowLength();
            float[] piece = PIECE.get();
            if (piece.length < Math.min(rows, kvLora)) {
                piece = new float[(int) Math.min(rows, kvLora)];
                PIECE.set(piece);
            }
            for (int i = 0; i < rows; ) {
                long row = firstRow + i;
                long head = row / kvLora;
                long column = row % kvLora;
                int columns = (int) Math.min(rows - i, kvLora - column);
                for (int n = 0; n < nope; n++) {
                    kvB.read(head * (nope + v) + n, column, piece, 0, columns);
                    for (int c = 0; c < columns; c++) {
                        dst[at + (i + c) * nope + n] = piece[c];
                    }
                }
                i += columns;
            }
        }
    }
}
