package glmj.testdata;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/**
 * GLM-5's tokenizer as Hugging Face's tokenizers library saves it, at test scale ({@link GlmVocabulary}):
 * {@code tokenizer.json} (byte-level BPE, GLM-4's split regex with digits in runs of up to three, the added tokens)
 * and {@code tokenizer_config.json} (the added tokens' flags, EOS and PAD {@code <|endoftext|>}, the chat template).
 */
final class HfTokenizerFiles {
    /** The pre-tokenizer regex of GLM-4 and GLM-5's tokenizer.json; llama.cpp's {@code glm4}. */
    static final String GLM4_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final ObjectMapper JSON = new ObjectMapper();

    private HfTokenizerFiles() {
    }

    static void write(Path directory, GlmVocabulary vocabulary, int maxLength) throws IOException {
        JSON.writeValue(directory.resolve("tokenizer.json").toFile(), tokenizer(vocabulary));
        JSON.writeValue(directory.resolve("tokenizer_config.json").toFile(), tokenizerConfig(vocabulary, maxLength));
    }

    private static ObjectNode tokenizer(GlmVocabulary vocabulary) {
        ObjectNode t = JSON.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ArrayNode added = t.putArray("added_tokens");
        for (String special : GlmVocabulary.SPECIAL_TOKENS) {
            addedToken(added.addObject(), special).put("id", vocabulary.specialId(special));
        }
        t.putNull("normalizer");
        ObjectNode pre = t.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", GLM4_SPLIT);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        byteLevel(steps.addObject(), false, true, false);
        byteLevel(t.putObject("post_processor"), true, false, true);
        byteLevel(t.putObject("decoder"), true, true, true);
        ObjectNode model = t.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < vocabulary.firstSpecialId; id++) {
            vocab.put(vocabulary.tokens[id], id);
        }
        ArrayNode merges = model.putArray("merges");
        for (String merge : vocabulary.merges) {
            int space = merge.indexOf(' ');
            merges.addArray().add(merge.substring(0, space)).add(merge.substring(space + 1));
        }
        return t;
    }

    private static ObjectNode tokenizerConfig(GlmVocabulary vocabulary, int maxLength) {
        ObjectNode c = JSON.createObjectNode();
        ObjectNode decoder = c.putObject("added_tokens_decoder");
        for (String special : GlmVocabulary.SPECIAL_TOKENS) {
            addedToken(decoder.putObject(Integer.toString(vocabulary.specialId(special))), special);
        }
        c.put("chat_template", GlmDsaGenerator.chatTemplate());
        c.put("clean_up_tokenization_spaces", false);
        c.put("do_lower_case", false);
        c.put("eos_token", "<|endoftext|>");
        c.put("model_max_length", maxLength);
        c.put("pad_token", "<|endoftext|>");
        c.put("padding_side", "left");
        c.put("remove_space", false);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        return c;
    }

    private static ObjectNode addedToken(ObjectNode token, String content) {
        token.put("content", content);
        token.put("single_word", false);
        token.put("lstrip", false);
        token.put("rstrip", false);
        token.put("normalized", false);
        token.put("special", true);
        return token;
    }

    private static void byteLevel(ObjectNode step, boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        step.put("type", "ByteLevel");
        step.put("add_prefix_space", addPrefixSpace);
        step.put("trim_offsets", trimOffsets);
        step.put("use_regex", useRegex);
    }
}
