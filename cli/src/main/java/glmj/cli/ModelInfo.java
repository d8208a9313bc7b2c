package glmj.cli;

import glmj.engine.Architectures;
import glmj.engine.UnsupportedModelException;
import glmj.gguf.ActiveWeights;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFValueType;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What {@code glmj info} reports about a GGUF model: the same data for the text and the JSON output. */
record ModelInfo(
        List<String> shards,
        int ggufVersion,
        String architecture,
        String name,
        Map<String, Object> hyperparameters,
        Tokenizer tokenizer,
        List<Tensor> tensors,
        List<TypeTotal> types,
        TypeTotal total,
        Memory memory) {

    /** Arrays up to this length are shown whole; longer ones (the vocabulary) are summarized. */
    private static final int SHOWN_ARRAY_LENGTH = 128;

    record Tokenizer(String model, String preTokenizer, int tokens, int merges, Map<String, Object> specialTokens, int chatTemplateChars) {}

    record Tensor(String name, String type, long[] shape, long bytes) {}

    /**
     * What a run needs in memory: weight bytes a decode step reads, and one session's KV cache of the model's own
     * context; null for a model glmj's engine does not run.
     */
    record Memory(long activeBytesPerToken, int contextLength, long kvCacheBytes) {
        static Memory of(GGUFFile file) {
            try {
                Architectures.Architecture architecture = Architectures.of(file);
                Metadata metadata = file.metadata();
                return new Memory(ActiveWeights.of(file).perToken(),
                        metadata.getInt(metadata.getString("general.architecture") + ".context_length"),
                        architecture.cacheBytes(file, 0));
            } catch (UnsupportedModelException notRun) {
                return null;
            }
        }
    }

    record TypeTotal(String type, int tensors, long weights, long bytes, double bitsPerWeight) {
        static TypeTotal of(String type, List<TensorInfo> tensors) {
            long weights = tensors.stream().mapToLong(TensorInfo::elementCount).sum();
            long bytes = tensors.stream().mapToLong(TensorInfo::byteSize).sum();
            return new TypeTotal(type, tensors.size(), weights, bytes, weights == 0 ? 0 : 8.0 * bytes / weights);
        }
    }

    static ModelInfo of(GGUFFile file) {
        Metadata metadata = file.metadata();
        String architecture = metadata.getString("general.architecture", "(none)");
        Map<String, Object> hyperparameters = new LinkedHashMap<>();
        for (String key : metadata.keys()) {
            if (key.startsWith(architecture + ".")) {
                hyperparameters.put(key.substring(architecture.length() + 1), shown(metadata, key));
            }
        }
        Map<GGMLType, List<TensorInfo>> byType = new TreeMap<>();
        List<Tensor> tensors = new ArrayList<>();
        for (TensorInfo tensor : file.tensors()) {
            byType.computeIfAbsent(tensor.type(), type -> new ArrayList<>()).add(tensor);
            tensors.add(new Tensor(tensor.name(), tensor.type().ggmlName, tensor.shape(), tensor.byteSize()));
        }
        List<TypeTotal> types = byType.entrySet().stream()
                .map(entry -> TypeTotal.of(entry.getKey().ggmlName, entry.getValue()))
                .toList();
        return new ModelInfo(
                file.shards().stream().map(Path::toString).toList(),
                file.version(),
                architecture,
                metadata.getString("general.name", ""),
                hyperparameters,
                tokenizer(metadata),
                tensors,
                types,
                TypeTotal.of("all", file.tensors()),
                Memory.of(file));
    }

    private static Tokenizer tokenizer(Metadata metadata) {
        String[] tokens = metadata.has("tokenizer.ggml.tokens") ? metadata.getStringArray("tokenizer.ggml.tokens") : new String[0];
        Map<String, Object> special = new LinkedHashMap<>();
        for (String role : List.of("bos", "eos", "eot", "eom", "unknown", "padding", "seperator", "mask")) {
            String key = "tokenizer.ggml." + role + "_token_id";
            if (metadata.has(key)) {
                int id = metadata.getInt(key);
                special.put(role, id >= 0 && id < tokens.length ? id + " " + tokens[id] : Integer.toString(id));
            }
        }
        return new Tokenizer(
                metadata.getString("tokenizer.ggml.model", "(none)"),
                metadata.getString("tokenizer.ggml.pre", "(none)"),
                tokens.length,
                metadata.has("tokenizer.ggml.merges") ? Array.getLength(metadata.get("tokenizer.ggml.merges")) : 0,
                special,
                metadata.getString("tokenizer.chat_template", "").length());
    }

    private static Object shown(Metadata metadata, String key) {
        Object value = metadata.get(key);
        if (metadata.type(key) != GGUFValueType.ARRAY || Array.getLength(value) <= SHOWN_ARRAY_LENGTH) {
            return value;
        }
        return "[" + Array.getLength(value) + " " + metadata.arrayElementType(key).name().toLowerCase() + "]";
    }
}
