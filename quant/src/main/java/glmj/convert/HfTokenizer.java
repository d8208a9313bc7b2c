package glmj.convert;

import com.fasterxml.jackson.databind.JsonNode;
import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;
import glmj.hf.CheckpointFormatException;
import glmj.hf.HfCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's byte-level BPE tokenizer ({@code tokenizer.json}, {@code tokenizer_config.json}) as llama.cpp's
 * converter writes GLM's into a GGUF ({@code _set_vocab_glm}, {@code get_vocab_base}, gguf-py's {@code SpecialVocab}):
 * model {@code gpt2}; every id below the config's {@code vocab_size} a token, {@code [PAD<id>]} (UNUSED) where the
 * tokenizer has none; added tokens CONTROL when special or {@code <|...|>}, else USER_DEFINED; the merges; the special
 * tokens tokenizer_config.json names, then config.json's {@code *_token_id}, then GLM's BOS {@code [gMASK]}, EOT
 * {@code <|user|>}, UNK {@code <|endoftext|>} and EOM {@code <|observation|>}, each kept from the first source that
 * sets it; the {@code add_*_token} flags; and the chat template (tokenizer_config.json's, else
 * {@code chat_template.jinja}). Unlike gguf-py, tokenizer.json's post-processor (a {@code TemplateProcessing} that adds
 * BOS or EOS) is not read: GLM's tokenizers add no tokens that way, and add_bos_token stays unset as for GLM-5.
 *
 * <p>The pre-tokenizer name comes from tokenizer.json's split regex: GLM-4's (digits in runs of up to three) is
 * {@code glm4}, Qwen2's (single digits) {@code qwen2}. llama.cpp's converter names it by hashing the tokenization of a
 * test text instead, which for GLM-5's own tokenizer gives {@code glm4} too.
 */
final class HfTokenizer {
    static final String TOKENIZER = "tokenizer.json";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    /** llama.cpp's {@code llama_token_type}. */
    static final int NORMAL = 1;
    static final int UNUSED = 5;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;

    /** Split regexes of tokenizer.json and the llama.cpp pre-tokenizer each is. */
    private static final Map<String, String> PRE_TOKENIZERS = Map.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "glm4",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "qwen2");

    /** SpecialVocab's special token types, in its order, with their GGUF keys (null: not written). */
    private static final List<String> SPECIAL_TYPES = List.of("bos", "eos", "unk", "sep", "pad", "cls", "mask");
    private static final Map<String, String> ID_KEYS = Map.of(
            "bos", "tokenizer.ggml.bos_token_id", "eos", "tokenizer.ggml.eos_token_id",
            "unk", "tokenizer.ggml.unknown_token_id", "sep", "tokenizer.ggml.seperator_token_id",
            "pad", "tokenizer.ggml.padding_token_id", "mask", "tokenizer.ggml.mask_token_id",
            "eot", "tokenizer.ggml.eot_token_id", "eom", "tokenizer.ggml.eom_token_id");
    /** The add-flags llama.cpp reads. */
    private static final List<String> ADD_FLAGS = List.of("bos", "eos", "sep");

    private HfTokenizer() {
    }

    /**
     * Puts the tokenizer keys of the checkpoint in {@code directory} into {@code w}.
     *
     * @throws CheckpointFormatException when a file is malformed or lacks what GLM's tokenizer has
     */
    static void put(GGUFWriter w, Path directory, JsonNode config, int vocabularySize) throws IOException {
        Path tokenizerFile = directory.resolve(TOKENIZER);
        JsonNode tokenizer = HfCheckpoint.readJson(tokenizerFile);
        Path configFile = directory.resolve(TOKENIZER_CONFIG);
        JsonNode tokenizerConfig = Files.isRegularFile(configFile) ? HfCheckpoint.readJson(configFile) : null;
        JsonNode model = tokenizer.path("model");
        if (!model.path("type").asText("").equals("BPE") || !model.path("vocab").isObject()) {
            throw new CheckpointFormatException(tokenizerFile, "not a BPE tokenizer with a vocab");
        }
        Map<Integer, String> byId = new HashMap<>();
        model.get("vocab").properties().forEach(e -> byId.put(e.getValue().asInt(), e.getKey()));
        Map<String, Integer> added = new LinkedHashMap<>();
        Map<Integer, Boolean> addedSpecial = new HashMap<>();
        for (JsonNode t : tokenizer.path("added_tokens")) {
            int id = t.path("id").asInt(-1);
            String content = t.path("content").asText(null);
            if (id < 0 || content == null) {
                throw new CheckpointFormatException(tokenizerFile, "an added token without id or content: " + t);
            }
            byId.put(id, content);
            added.put(content, id);
            addedSpecial.put(id, t.path("special").asBoolean(false));
        }
        String[] tokens = new String[vocabularySize];
        int[] types = new int[vocabularySize];
        for (int id = 0; id < vocabularySize; id++) {
            String token = byId.get(id);
            if (token == null) {
                tokens[id] = "[PAD" + id + "]";
                types[id] = UNUSED;
            } else if (addedSpecial.containsKey(id)) {
                boolean control = addedSpecial.get(id) || looksSpecial(token);
                tokens[id] = control ? token : token.replace('\u2581', ' ');
                types[id] = control ? CONTROL : USER_DEFINED;
            } else {
                tokens[id] = token;
                types[id] = NORMAL;
            }
        }
        int largest = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
        if (largest >= vocabularySize) {
            throw new CheckpointFormatException(tokenizerFile, "token id " + largest + " is not below config.json's vocab_size "
                    + vocabularySize);
        }
        w.putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", preTokenizer(tokenizerFile, tokenizer))
                .putArray("tokenizer.ggml.tokens", GGUFValueType.STRING, tokens)
                .putArray("tokenizer.ggml.token_type", GGUFValueType.INT32, types)
                .putArray("tokenizer.ggml.merges", GGUFValueType.STRING, merges(tokenizerFile, model));
        Map<String, Integer> ids = new LinkedHashMap<>();
        Map<String, Boolean> flags = new LinkedHashMap<>();
        if (tokenizerConfig != null) {
            for (String type : SPECIAL_TYPES) {
                JsonNode flag = tokenizerConfig.get("add_" + type + "_token");
                if (flag != null && flag.isBoolean()) {
                    flags.put(type, flag.asBoolean());
                }
                JsonNode entry = tokenizerConfig.get(type + "_token");
                String content = entry == null ? null : entry.isTextual() ? entry.asText() : entry.path("content").asText(null);
                if (content != null && added.containsKey(content)) {
                    setSpecial(ids, type, added.get(content), vocabularySize);
                }
            }
        }
        for (String type : SPECIAL_TYPES) {
            JsonNode id = config.get(type + "_token_id");
            if (id != null && id.isIntegralNumber()) {
                setSpecial(ids, type, id.asInt(), vocabularySize);
            }
        }
        setSpecial(ids, "bos", addedId(tokenizerFile, added, "[gMASK]"), vocabularySize);
        setSpecial(ids, "eot", addedId(tokenizerFile, added, "<|user|>"), vocabularySize);
        setSpecial(ids, "unk", addedId(tokenizerFile, added, "<|endoftext|>"), vocabularySize);
        setSpecial(ids, "eom", addedId(tokenizerFile, added, "<|observation|>"), vocabularySize);
        ids.forEach((type, id) -> {
            if (ID_KEYS.containsKey(type)) {
                w.putUInt32(ID_KEYS.get(type), id);
            }
        });
        flags.forEach((type, value) -> {
            if (ADD_FLAGS.contains(type)) {
                w.putBool("tokenizer.ggml.add_" + type + "_token", value);
            }
        });
        String template = chatTemplate(directory, tokenizerConfig);
        if (template != null) {
            w.putString("tokenizer.chat_template", template);
        }
    }

    /** The pre-tokenizer name of tokenizer.json's split regex. */
    private static String preTokenizer(Path file, JsonNode tokenizer) {
        JsonNode pre = tokenizer.path("pre_tokenizer");
        List<JsonNode> steps = pre.has("pretokenizers") ? List.copyOf(pre.get("pretokenizers").valueStream().toList()) : List.of(pre);
        for (JsonNode step : steps) {
            if (step.path("type").asText().equals("Split")) {
                String regex = step.path("pattern").path("Regex").asText("");
                String name = PRE_TOKENIZERS.get(regex);
                if (name == null) {
                    throw new CheckpointFormatException(file, "the pre-tokenizer splits by a regex that is neither GLM's (glm4) nor Qwen2's: "
                            + (regex.length() > 80 ? regex.substring(0, 80) + "..." : regex));
                }
                return name;
            }
        }
        throw new CheckpointFormatException(file, "the pre-tokenizer has no Split regex; GLM's tokenizer splits with one");
    }

    /** The merges as llama.cpp stores them: {@code "left right"}, spaces inside a part written as U+0120. */
    private static String[] merges(Path file, JsonNode model) {
        JsonNode merges = model.path("merges");
        String[] out = new String[merges.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode m = merges.get(i);
            if (m.isTextual()) {
                out[i] = m.asText();
            } else if (m.isArray() && m.size() == 2) {
                out[i] = m.get(0).asText().replace(' ', '\u0120') + " " + m.get(1).asText().replace(' ', '\u0120');
            } else {
                throw new CheckpointFormatException(file, "merge " + i + " is " + m + ", neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        return out;
    }

    /** Sets a special token unless one of its type is set already (SpecialVocab keeps the first). */
    private static void setSpecial(Map<String, Integer> ids, String type, int id, int vocabularySize) {
        if (id >= 0 && id < vocabularySize) {
            ids.putIfAbsent(type, id);
        }
    }

    private static int addedId(Path file, Map<String, Integer> added, String content) {
        Integer id = added.get(content);
        if (id == null) {
            throw new CheckpointFormatException(file, "has no added token " + content + ", which GLM's tokenizer has");
        }
        return id;
    }

    /** What llama.cpp's converter takes for a CONTROL token whatever its flags. */
    private static boolean looksSpecial(String token) {
        return token.equals("<pad>") || token.equals("<mask>") || token.equals("<2mass>") || token.equals("[@BOS@]")
                || (token.startsWith("<|") && token.endsWith("|>"))
                || (token.startsWith("<\uFF5C") && token.endsWith("\uFF5C>"))
                || (token.startsWith("<unused") && token.endsWith(">"));
    }

    private static String chatTemplate(Path directory, JsonNode tokenizerConfig) throws IOException {
        if (tokenizerConfig == null) {
            return null;
        }
        JsonNode template = tokenizerConfig.get("chat_template");
        if (template != null && template.isTextual()) {
            return template.asText();
        }
        Path jinja = directory.resolve(CHAT_TEMPLATE_FILE);
        return template == null && Files.isRegularFile(jinja) ? Files.readString(jinja) : null;
    }
}
