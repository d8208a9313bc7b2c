package glmj.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import glmj.sampler.SamplerSettings;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The prompts of a batch: a text file with a prompt a line, or JSON lines whose fields are checked as the flags of the
 * same name. A line that cannot be answered (not UTF-8, not JSON, an unknown field, a value the flag would refuse)
 * becomes a prompt with a problem, which the batch answers with an error line.
 */
final class BatchInput {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final String ID = "id";
    private static final String PROMPT = "prompt";

    private BatchInput() {}

    /**
     * A prompt of the input: its id (the line number unless the line gives one), its text and settings; or, when
     * {@code problem} is not null, why its line cannot be answered ({@code text} then null unless it was read).
     */
    record Prompt(String id, String text, SamplerSettings settings, int maxTokens, String problem) {
        static Prompt failed(String id, String text, int line, String problem) {
            return new Prompt(id, text, null, 0, "line " + line + ": " + problem);
        }
    }

    /**
     * The prompts of {@code content}, one a non-blank line; JSON lines when {@code jsonl}, or when the first non-blank
     * line of text starts with '{'. {@code defaults} and {@code maxTokens} are the command line's settings.
     */
    static List<Prompt> read(byte[] content, boolean jsonl, SamplerSettings defaults, int maxTokens) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= content.length; i++) {
            if (i == content.length || content[i] == '\n') {
                int end = i > start && content[i - 1] == '\r' ? i - 1 : i;
                lines.add(decode(content, start, end));
                start = i + 1;
            }
        }
        boolean json = jsonl || lines.stream().filter(line -> line != null && !line.isBlank()).findFirst()
                .map(line -> line.stripLeading().startsWith("{")).orElse(false);
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String id = Integer.toString(i + 1);
            if (line == null) {
                prompts.add(Prompt.failed(id, null, i + 1, "not UTF-8 text"));
            } else if (!line.isBlank()) {
                prompts.add(json ? fromJson(line, i + 1, defaults, maxTokens) : new Prompt(id, line, defaults, maxTokens, null));
            }
        }
        return prompts;
    }

    /** The UTF-8 text of {@code bytes[start, end)}, or null when it is not UTF-8. */
    private static String decode(byte[] bytes, int start, int end) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, start, end - start)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The prompt of JSON line number {@code line}. */
    static Prompt fromJson(String text, int line, SamplerSettings defaults, int maxTokens) {
        String id = Integer.toString(line);
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return Prompt.failed(id, null, line, "not JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
        if (node == null || !node.isObject()) {
            return Prompt.failed(id, null, line, "expected a JSON object such as {\"prompt\": \"...\"}");
        }
        JsonNode idNode = node.path(ID);
        if (idNode.isTextual() || idNode.isNumber()) {
            id = idNode.asText();
        } else if (!idNode.isMissingNode() && !idNode.isNull()) {
            return Prompt.failed(id, null, line, "\"id\" must be a string or a number, not " + idNode);
        }
        JsonNode promptNode = node.path(PROMPT);
        if (!promptNode.isTextual()) {
            return Prompt.failed(id, null, line, "expected a \"prompt\" string" + (promptNode.isMissingNode() ? "" : ", not " + promptNode));
        }
        String prompt = promptNode.asText();
        SamplerSettings settings = defaults;
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals(ID) || name.equals(PROMPT) || value.isNull()) {
                continue;
            }
            PromptSetting setting = PromptSetting.named(name, true);
            if (setting == null) {
                return Prompt.failed(id, prompt, line, unknownField(name));
            }
            Number number = number(setting, value);
            if (number == null) {
                return Prompt.failed(id, prompt, line, "\"" + name + "\" must be " + setting.expected() + ", not " + value);
            }
            if (setting.isSampling()) {
                settings = setting.apply(settings, number);
            } else {
                maxTokens = number.intValue();
            }
        }
        return new Prompt(id, prompt, settings, maxTokens, null);
    }

    /** The value of {@code node} for {@code setting}, or null when it is of the wrong type or out of range. */
    private static Number number(PromptSetting setting, JsonNode node) {
        Number value;
        if (setting.integer) {
            value = node.isIntegralNumber() && node.canConvertToLong() ? node.longValue() : null;
        } else {
            value = node.isNumber() ? node.doubleValue() : null;
        }
        return value != null && setting.accepts(value) ? value : null;
    }

    /** "unknown field "temprature" (did you mean "temperature"?)", or the list of fields when none is close. */
    private static String unknownField(String name) {
        List<String> known = Stream.concat(Stream.of(ID, PROMPT), Stream.of(PromptSetting.values()).map(s -> s.jsonName)).toList();
        String closest = null;
        int best = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = editDistance(name, candidate);
            if (distance < best) {
                best = distance;
                closest = candidate;
            }
        }
        String quoted = "\"" + (name.length() > 40 ? name.substring(0, 40) + "..." : name) + "\"";
        return best <= Math.max(1, closest.length() / 4)
                ? "unknown field " + quoted + " (did you mean \"" + closest + "\"?)"
                : "unknown field " + quoted + " (the fields are " + String.join(", ", known) + ")";
    }

    /** Levenshtein distance: the fewest single-character insertions, deletions and substitutions from a to b. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
