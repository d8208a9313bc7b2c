package glmj.testdata;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.Fp8E4M3;
import glmj.testdata.GlmDsaGenerator.TensorSpec;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Writes a GLM-5 with random weights as Zhipu's Hugging Face release of GLM-5-FP8 lays it out ({@code glm_moe_dsa},
 * {@code GlmMoeDsaForCausalLM}): {@code config.json} with GLM-5's keys and an fp8 {@code quantization_config}, the
 * weights in two safetensors shards with {@code model.safetensors.index.json}, and the tokenizer
 * ({@link HfTokenizerFiles}). Projections are F8_E4M3, each with an f32 {@code _scale_inv} per 128x128 block (partial
 * at the edges when a width is not a multiple of 128); what GLM-5-FP8 keeps in BF16 is BF16: embeddings, head, norms,
 * the router, the indexer's {@code weights_proj} and {@code k_norm}, the MTP block's {@code eh_proj}; the router's
 * {@code e_score_correction_bias} is F32, as DeepSeek-V3-style checkpoints store it. The MTP block follows the trunk
 * as {@code model.layers.<num_hidden_layers>}, without copies of the embeddings and head (GLM-5 shares them).
 *
 * <p>The values are those of the GGUF tensors {@link GlmDsaGenerator} makes for the same shape (each drawn from the
 * stream of its GGUF name) before rounding to FP8 or BF16, laid out the Hugging Face way: experts apart, and
 * {@code kv_b_proj} holding {@code attn_k_b} transposed and {@code attn_v_b} per head. The bytes are the same on every run.
 */
final class GlmDsaCheckpoint {
    static final int BLOCK = 128;
    static final String SHARD_NAME = "model-%05d-of-%05d.safetensors";
    private static final int SHARDS = 2;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** How a checkpoint tensor is stored. */
    enum Storage {
        /** F8_E4M3 with an f32 scale per 128x128 block. */
        FP8("F8_E4M3", 1),
        BF16("BF16", 2),
        F32("F32", 4);

        final String dtype;
        final int bytes;

        Storage(String dtype, int bytes) {
            this.dtype = dtype;
            this.bytes = bytes;
        }
    }

    /** A checkpoint tensor: its name, storage and PyTorch shape. */
    record HfTensor(String name, Storage storage, long... shape) {
        long rows() {
            return shape.length == 1 ? 1 : shape[0];
        }

        long columns() {
            return shape[shape.length - 1];
        }

        String scaleName() {
            return name + "_scale_inv";
        }

        long[] scaleShape() {
            return new long[]{(rows() + BLOCK - 1) / BLOCK, (columns() + BLOCK - 1) / BLOCK};
        }
    }

    /** Checkpoint tensors made from one GGUF tensor's values ({@code kv_b_proj} from two). */
    private record Job(List<TensorSpec> sources, List<HfTensor> outputs) {
        long bytes() {
            return outputs.stream().mapToLong(t -> t.rows() * t.columns() * t.storage().bytes).sum();
        }
    }

    private GlmDsaCheckpoint() {
    }

    /**
     * Writes the checkpoint of {@code shape} (its MTP blocks too, and embeddings of its vocabulary size, or of
     * {@code vocabulary}'s when it has none) into {@code directory}, which must exist and be empty.
     */
    static void write(Path directory, GlmDsaShape shape, GlmVocabulary vocabulary) throws IOException {
        write(directory, shape, vocabulary, true);
    }

    /**
     * As {@link #write(Path, GlmDsaShape, GlmVocabulary)}; without {@code weights} the safetensors files have their
     * headers and sizes but no data written: sparse files that take no disk space however large the shape, for what
     * needs only the tensors' names, types and shapes.
     */
    static void write(Path directory, GlmDsaShape shape, GlmVocabulary vocabulary, boolean weights) throws IOException {
        int vocabularySize = shape.vocabularySize() > 0 ? shape.vocabularySize() : vocabulary.size();
        List<Job> jobs = jobs(shape, vocabularySize);
        List<HfTensor> tensors = jobs.stream().flatMap(j -> j.outputs().stream()).toList();
        int[] shardOf = shards(jobs, tensors);
        List<SafetensorsWriter> writers = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long totalBytes = 0;
        for (int s = 0; s < SHARDS; s++) {
            writers.add(new SafetensorsWriter());
        }
        for (int i = 0; i < tensors.size(); i++) {
            HfTensor t = tensors.get(i);
            SafetensorsWriter w = writers.get(shardOf[i]);
            String file = SHARD_NAME.formatted(shardOf[i] + 1, SHARDS);
            totalBytes += w.add(t.name(), t.storage().dtype, t.storage().bytes, t.shape());
            weightMap.put(t.name(), file);
            if (t.storage() == Storage.FP8) {
                totalBytes += w.add(t.scaleName(), Storage.F32.dtype, Storage.F32.bytes, t.scaleShape());
                weightMap.put(t.scaleName(), file);
            }
        }
        List<SafetensorsWriter.Output> outputs = new ArrayList<>();
        try {
            for (int s = 0; s < SHARDS; s++) {
                outputs.add(writers.get(s).open(directory.resolve(SHARD_NAME.formatted(s + 1, SHARDS))));
            }
            Map<String, SafetensorsWriter.Output> outputOf = new HashMap<>();
            for (int i = 0; i < tensors.size(); i++) {
                outputOf.put(tensors.get(i).name(), outputs.get(shardOf[i]));
                outputOf.put(tensors.get(i).scaleName(), outputs.get(shardOf[i]));
            }
            if (weights) {
                generateAll(jobs, name -> outputOf.get(name).segment(name));
            }
        } finally {
            outputs.forEach(SafetensorsWriter.Output::close);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", totalBytes);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        JSON.writeValue(directory.resolve("model.safetensors.index.json").toFile(), index);
        JSON.writeValue(directory.resolve("config.json").toFile(), config(shape, vocabulary, vocabularySize));
        HfTokenizerFiles.write(directory, vocabulary, shape.contextLength());
    }

    /** Which shard each tensor goes to: the first half of the bytes, in order, to the first. */
    private static int[] shards(List<Job> jobs, List<HfTensor> tensors) {
        long total = jobs.stream().mapToLong(Job::bytes).sum();
        int[] shardOf = new int[tensors.size()];
        long done = 0;
        for (int i = 0; i < tensors.size(); i++) {
            HfTensor t = tensors.get(i);
            shardOf[i] = done < total / SHARDS ? 0 : 1;
            done += t.rows() * t.columns() * t.storage().bytes;
        }
        return shardOf;
    }

    /** Every checkpoint tensor, grouped by the GGUF tensors whose values it holds, in GLM-5's layer order. */
    static List<Job> jobs(GlmDsaShape s, int vocabularySize) {
        List<TensorSpec> specs = GlmDsaGenerator.tensors(s, vocabularySize);
        List<Job> jobs = new ArrayList<>();
        TensorSpec keys = null;
        for (TensorSpec spec : specs) {
            String gguf = spec.name();
            if (gguf.endsWith("attn_k_b.weight")) {
                keys = spec; // joined with attn_v_b, which follows it
                continue;
            }
            String layer = gguf.startsWith("blk.") ? "model.layers." + gguf.split("\\.")[1] + "." : null;
            String suffix = layer == null ? gguf : gguf.substring(gguf.indexOf('.', 4) + 1);
            long[] g = spec.shape();
            if (suffix.equals("attn_v_b.weight")) {
                long rows = (long) s.headCount() * (s.qkNopeHeadDim() + s.valueLengthMla());
                jobs.add(new Job(List.of(keys, spec), List.of(new HfTensor(layer + "self_attn.kv_b_proj.weight", Storage.FP8,
                        rows, s.kvLoraRank()))));
                continue;
            }
            if (g.length == 3) {
                String projection = suffix.substring(0, suffix.indexOf("_exps")).replace("ffn_", "") + "_proj";
                List<HfTensor> experts = new ArrayList<>();
                for (int e = 0; e < g[2]; e++) {
                    experts.add(new HfTensor(layer + "mlp.experts." + e + "." + projection + ".weight", Storage.FP8, g[1], g[0]));
                }
                jobs.add(new Job(List.of(spec), experts));
                continue;
            }
            String name = layer == null ? GLOBAL_NAMES.get(gguf) : layer + LAYER_NAMES.get(suffix);
            if (name == null || name.endsWith("null")) {
                throw new IllegalStateException("no checkpoint name for " + gguf);
            }
            long[] hfShape = g.length == 1 ? new long[]{g[0]} : new long[]{g[1], g[0]};
            jobs.add(new Job(List.of(spec), List.of(new HfTensor(name, storage(name, g.length), hfShape))));
        }
        return jobs;
    }

    private static final Map<String, String> GLOBAL_NAMES = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");

    /** GGUF tensor name in a block (after {@code blk.N.}) to checkpoint name in its layer (after {@code model.layers.N.}). */
    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("attn_norm.weight", "input_layernorm.weight"),
            Map.entry("attn_q_a.weight", "self_attn.q_a_proj.weight"),
            Map.entry("attn_q_a_norm.weight", "self_attn.q_a_layernorm.weight"),
            Map.entry("attn_q_b.weight", "self_attn.q_b_proj.weight"),
            Map.entry("attn_kv_a_mqa.weight", "self_attn.kv_a_proj_with_mqa.weight"),
            Map.entry("attn_kv_a_norm.weight", "self_attn.kv_a_layernorm.weight"),
            Map.entry("attn_output.weight", "self_attn.o_proj.weight"),
            Map.entry("indexer.attn_q_b.weight", "self_attn.indexer.wq_b.weight"),
            Map.entry("indexer.attn_k.weight", "self_attn.indexer.wk.weight"),
            Map.entry("indexer.k_norm.weight", "self_attn.indexer.k_norm.weight"),
            Map.entry("indexer.k_norm.bias", "self_attn.indexer.k_norm.bias"),
            Map.entry("indexer.proj.weight", "self_attn.indexer.weights_proj.weight"),
            Map.entry("ffn_norm.weight", "post_attention_layernorm.weight"),
            Map.entry("ffn_gate.weight", "mlp.gate_proj.weight"),
            Map.entry("ffn_up.weight", "mlp.up_proj.weight"),
            Map.entry("ffn_down.weight", "mlp.down_proj.weight"),
            Map.entry("ffn_gate_inp.weight", "mlp.gate.weight"),
            Map.entry("exp_probs_b.bias", "mlp.gate.e_score_correction_bias"),
            Map.entry("ffn_gate_shexp.weight", "mlp.shared_experts.gate_proj.weight"),
            Map.entry("ffn_up_shexp.weight", "mlp.shared_experts.up_proj.weight"),
            Map.entry("ffn_down_shexp.weight", "mlp.shared_experts.down_proj.weight"),
            Map.entry("nextn.eh_proj.weight", "eh_proj.weight"),
            Map.entry("nextn.enorm.weight", "enorm.weight"),
            Map.entry("nextn.hnorm.weight", "hnorm.weight"),
            Map.entry("nextn.shared_head_norm.weight", "shared_head.norm.weight"));

    /** GLM-5-FP8's storage for a tensor: vectors, embeddings, head, router and a few small projections stay wide. */
    private static Storage storage(String name, int dimensions) {
        if (name.endsWith("e_score_correction_bias")) {
            return Storage.F32;
        }
        if (dimensions == 1 || name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")
                || name.endsWith("mlp.gate.weight") || name.endsWith("indexer.weights_proj.weight") || name.endsWith("eh_proj.weight")) {
            return Storage.BF16;
        }
        return Storage.FP8;
    }

    /** Where a tensor's (or scale's) bytes go. */
    @FunctionalInterface
    private interface Segments {
        MemorySegment of(String name);
    }

    /** Makes every job on as many threads as there are cores, biggest first. */
    private static void generateAll(List<Job> jobs, Segments segments) {
        List<Job> order = new ArrayList<>(jobs);
        order.sort((a, b) -> Long.compare(b.bytes(), a.bytes()));
        GlmDsaGenerator.runOnEveryCore(order.stream().<Runnable>map(job -> () -> generate(job, segments)).toList());
    }

    private static void generate(Job job, Segments segments) {
        if (job.sources().size() == 2) {
            HfTensor kvB = job.outputs().getFirst();
            store(kvB, keysAndValues(job.sources().get(0), job.sources().get(1)), 0, (int) kvB.rows(), segments);
            return;
        }
        TensorSpec spec = job.sources().getFirst();
        SplittableRandom random = Weights.stream(spec.name());
        for (HfTensor t : job.outputs()) {
            // consecutive checkpoint tensors take consecutive stretches of the GGUF tensor's values, a strip of
            // scale blocks at a time
            int columns = (int) t.columns();
            float[] strip = new float[(int) Math.min(t.rows(), BLOCK) * columns];
            for (long row = 0; row < t.rows(); row += BLOCK) {
                int rows = (int) Math.min(BLOCK, t.rows() - row);
                Weights.fill(random, spec.init(), spec.shape()[0], strip, rows * columns);
                store(t, strip, row, rows, segments);
            }
        }
    }

    /**
     * {@code kv_b_proj} [heads * (nope + v), kv_lora] from {@code attn_k_b} {nope, kv_lora, heads} and
     * {@code attn_v_b} {kv_lora, v, heads}: per head, the nope rows of k_b transposed, then the v rows of v_b.
     */
    private static float[] keysAndValues(TensorSpec keys, TensorSpec values) {
        int nope = (int) keys.shape()[0];
        int kvLora = (int) keys.shape()[1];
        int heads = (int) keys.shape()[2];
        int v = (int) values.shape()[1];
        float[] k = valuesOf(keys);
        float[] vb = valuesOf(values);
        float[] out = new float[heads * (nope + v) * kvLora];
        for (int h = 0; h < heads; h++) {
            for (int n = 0; n < nope; n++) {
                for (int c = 0; c < kvLora; c++) {
                    out[(h * (nope + v) + n) * kvLora + c] = k[n + nope * (c + kvLora * h)];
                }
            }
            System.arraycopy(vb, h * v * kvLora, out, (h * (nope + v) + nope) * kvLora, v * kvLora);
        }
        return out;
    }

    private static float[] valuesOf(TensorSpec spec) {
        float[] values = new float[Math.toIntExact(spec.elementCount())];
        Weights.fill(Weights.stream(spec.name()), spec.init(), spec.shape()[0], values, values.length);
        return values;
    }

    /**
     * Writes rows {@code [firstRow, firstRow + rows)} of {@code t}, given row-major in {@code values}, as {@code t}
     * stores them; for FP8 {@code firstRow} is a multiple of the block size.
     */
    private static void store(HfTensor t, float[] values, long firstRow, int rows, Segments segments) {
        MemorySegment out = segments.of(t.name());
        long columns = t.columns();
        int count = (int) (rows * columns);
        long first = firstRow * columns;
        switch (t.storage()) {
            case F32 -> MemorySegment.copy(values, 0, out, FLOAT_LE, first * 4, count);
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out.set(SHORT_LE, 2 * (first + i), FloatFormats.f32ToBf16(values[i]));
                }
            }
            case FP8 -> {
                MemorySegment scales = segments.of(t.scaleName());
                for (int stripRow = 0; stripRow < rows; stripRow += BLOCK) {
                    int stripRows = Math.min(BLOCK, rows - stripRow);
                    long blockRow = (firstRow + stripRow) / BLOCK;
                    for (int blockStart = 0; blockStart < columns; blockStart += BLOCK) {
                        storeFp8Block(values, stripRow * (int) columns, stripRows, (int) columns, blockStart, out,
                                first + stripRow * columns, scales, blockRow * t.scaleShape()[1] + blockStart / BLOCK);
                    }
                }
            }
        }
    }

    /**
     * One block (up to 128 rows of {@code values} from {@code at}, columns from {@code blockStart}) as E4M3 times an
     * f32 scale, its largest magnitude over 448 (DeepSeek's recipe), so that its largest value maps to E4M3's largest.
     */
    private static void storeFp8Block(float[] values, int at, int rows, int columns, int blockStart, MemorySegment out, long first,
            MemorySegment scales, long scaleIndex) {
        int blockEnd = Math.min(columns, blockStart + BLOCK);
        float amax = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = blockStart; c < blockEnd; c++) {
                amax = Math.max(amax, Math.abs(values[at + r * columns + c]));
            }
        }
        float scale = amax > 0 ? amax / Fp8E4M3.MAX : 1f;
        scales.setAtIndex(FLOAT_LE, scaleIndex, scale);
        for (int r = 0; r < rows; r++) {
            for (int c = blockStart; c < blockEnd; c++) {
                out.set(ValueLayout.JAVA_BYTE, first + (long) r * columns + c, (byte) Fp8E4M3.fromFloat(values[at + r * columns + c] / scale));
            }
        }
    }

    /** {@code config.json} as GLM-5's, at {@code shape}'s sizes. */
    static ObjectNode config(GlmDsaShape s, GlmVocabulary vocabulary, int vocabularySize) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("GlmMoeDsaForCausalLM");
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("dtype", "bfloat16");
        ArrayNode eos = c.putArray("eos_token_id");
        for (String token : List.of("<|endoftext|>", "<|user|>", "<|observation|>")) {
            eos.add(vocabulary.specialId(token));
        }
        c.put("first_k_dense_replace", s.leadingDenseBlockCount());
        c.put("head_dim", s.qkRopeHeadDim());
        c.put("hidden_act", "silu");
        c.put("hidden_size", s.embeddingLength());
        c.put("index_head_dim", s.indexerKeyLength());
        c.put("index_n_heads", s.indexerHeadCount());
        c.put("index_topk", s.indexerTopK());
        boolean everyIndexerFull = true;
        for (int il = 0; il < s.blockCount(); il++) {
            everyIndexerFull &= s.isIndexerFull(il);
        }
        if (!everyIndexerFull) {
            ArrayNode types = c.putArray("indexer_types");
            for (boolean full : s.indexerTypes()) {
                types.add(full ? "full" : "shared");
            }
        }
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", s.feedForwardLength());
        c.put("kv_lora_rank", s.kvLoraRank());
        c.put("max_position_embeddings", s.contextLength());
        c.put("model_type", "glm_moe_dsa");
        c.put("moe_intermediate_size", s.expertFeedForwardLength());
        c.put("moe_layer_freq", 1);
        c.put("n_group", 1);
        c.put("n_routed_experts", s.expertCount());
        c.put("n_shared_experts", s.expertSharedCount());
        c.put("norm_topk_prob", true);
        c.put("num_attention_heads", s.headCount());
        c.put("num_experts_per_tok", s.expertUsedCount());
        c.put("num_hidden_layers", s.blockCount());
        c.put("num_key_value_heads", s.headCount());
        c.put("num_nextn_predict_layers", s.nextnBlockCount());
        c.put("pad_token_id", vocabulary.specialId("<|endoftext|>"));
        c.put("q_lora_rank", s.qLoraRank());
        c.put("qk_head_dim", s.keyLengthMla());
        c.put("qk_nope_head_dim", s.qkNopeHeadDim());
        c.put("qk_rope_head_dim", s.qkRopeHeadDim());
        ObjectNode quantization = c.putObject("quantization_config");
        quantization.put("activation_scheme", "dynamic");
        quantization.put("fmt", "e4m3");
        quantization.put("quant_method", "fp8");
        quantization.putArray("weight_block_size").add(BLOCK).add(BLOCK);
        c.put("rms_norm_eps", (double) s.rmsNormEps());
        c.put("rope_interleave", true);
        ObjectNode rope = c.putObject("rope_parameters");
        rope.put("rope_theta", (double) s.ropeFreqBase());
        rope.put("rope_type", "default");
        c.put("routed_scaling_factor", (double) s.expertWeightsScale());
        c.put("scoring_func", "sigmoid");
        c.put("tie_word_embeddings", false);
        c.put("topk_group", 1);
        c.put("topk_method", "noaux_tc");
        c.put("transformers_version", "5.18.0");
        c.put("use_cache", true);
        c.put("v_head_dim", s.valueLengthMla());
        c.put("vocab_size", vocabularySize);
        return c;
    }

    /** Creates {@code directory} if needed; it must then hold nothing. */
    static void prepare(Path directory) throws IOException {
        Files.createDirectories(directory);
        try (var entries = Files.list(directory)) {
            if (entries.findAny().isPresent()) {
                throw new IOException(directory + " is not empty");
            }
        }
    }
}
