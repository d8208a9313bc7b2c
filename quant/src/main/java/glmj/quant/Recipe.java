package glmj.quant;

import glmj.tensor.GGMLType;
import glmj.tensor.quantize.Quantizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A quantization recipe: the type of every tensor llama-quantize would quantize, as rules by tensor name and block,
 * the first matching rule winning. A recipe is a small text file (docs/quantize.md describes it):
 * <pre>
 * # a comment, to the end of the line
 * name      Q2_K_XL                 the recipe's name (default: the file name)
 * file-type Q2_K                    general.file_type, as llama-quantize names it
 * describe  Routed experts ...      a line of description (repeatable; the first is the summary)
 *
 * token_embd.weight                    q4_K     a rule: a tensor name pattern, a type
 * blk.*.ffn_{gate,up}_exps.weight  moe:0  q3_K     ... or a pattern, a block set, a type
 * </pre>
 * Patterns match whole tensor names: {@code *} any characters, {@code ?} one, {@code {a,b}} either; block sets are
 * {@link LayerSet}s. Types are ggml's names (any case) of the types glmj quantizes to, and {@code f32}. Tensors
 * llama-quantize never quantizes (norms, the router, vectors) take no rule.
 */
public final class Recipe {
    /** The built-in recipes' file extension. */
    public static final String EXTENSION = ".recipe";

    /** A rule: tensors whose names match {@code pattern}, in {@code layers} (every tensor when null), get {@code type}. */
    public record Rule(int line, String pattern, LayerSet layers, GGMLType type, Pattern regex) {
        public boolean matches(String name, LayerLayout layout) {
            return regex.matcher(name).matches() && (layers == null || layers.contains(layout, LayerLayout.layerOf(name)));
        }

        @Override
        public String toString() {
            return "line " + line + ": " + pattern + (layers == null ? "" : " " + layers) + " " + type.ggmlName;
        }
    }

    private final String name;
    private final String origin;
    private final FileType fileType;
    private final List<String> description;
    private final List<Rule> rules;
    private final String text;

    private Recipe(String name, String origin, FileType fileType, List<String> description, List<Rule> rules, String text) {
        this.name = name;
        this.origin = origin;
        this.fileType = fileType;
        this.description = List.copyOf(description);
        this.rules = List.copyOf(rules);
        this.text = text;
    }

    /** Reads the recipe in {@code file}. @throws QuantizeException naming the file and line of a problem */
    public static Recipe read(Path file) throws IOException {
        String fileName = file.getFileName().toString();
        String defaultName = fileName.endsWith(EXTENSION) ? fileName.substring(0, fileName.length() - EXTENSION.length()) : fileName;
        return parse(Files.readString(file), file.toString(), defaultName);
    }

    /**
     * Parses recipe {@code text}; {@code origin} names it in messages, {@code defaultName} is its name unless it names
     * itself.
     *
     * @throws QuantizeException {@code origin:line: problem}
     */
    public static Recipe parse(String text, String origin, String defaultName) {
        String name = defaultName;
        FileType fileType = null;
        List<String> description = new ArrayList<>();
        List<Rule> rules = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int line = i + 1;
            String content = lines[i];
            int comment = content.indexOf('#');
            if (comment >= 0) {
                content = content.substring(0, comment);
            }
            content = content.strip();
            if (content.isEmpty()) {
                continue;
            }
            String[] words = content.split("\\s+");
            String value = content.substring(words[0].length()).strip();
            switch (words[0]) {
                case "name" -> name = single(words, origin, line);
                case "file-type" -> {
                    fileType = FileType.named(single(words, origin, line));
                    if (fileType == null) {
                        throw problem(origin, line, "unknown file type '" + words[1] + "' (llama-quantize's names: "
                                + Arrays.stream(FileType.values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
                    }
                }
                case "describe" -> description.add(value);
                default -> rules.add(rule(words, origin, line));
            }
        }
        if (fileType == null) {
            throw new QuantizeException(origin + ": the recipe names no file type (a line 'file-type Q4_K_M')");
        }
        if (rules.isEmpty()) {
            throw new QuantizeException(origin + ": the recipe has no rules (lines 'PATTERN [BLOCKS] TYPE')");
        }
        return new Recipe(name, origin, fileType, description, rules, text);
    }

    private static String single(String[] words, String origin, int line) {
        if (words.length != 2) {
            throw problem(origin, line, "'" + words[0] + "' takes one value");
        }
        return words[1];
    }

    private static Rule rule(String[] words, String origin, int line) {
        if (words.length < 2 || words.length > 3) {
            throw problem(origin, line, "a rule is 'PATTERN TYPE' or 'PATTERN BLOCKS TYPE', not '" + String.join(" ", words) + "'");
        }
        LayerSet layers = null;
        if (words.length == 3) {
            try {
                layers = LayerSet.parse(words[1]);
            } catch (IllegalArgumentException e) {
                throw problem(origin, line, e.getMessage());
            }
        }
        GGMLType type = type(words[words.length - 1], origin, line);
        return new Rule(line, words[0], layers, type, glob(words[0]));
    }

    private static GGMLType type(String word, String origin, int line) {
        for (GGMLType type : GGMLType.values()) {
            if (type.ggmlName.equalsIgnoreCase(word) && (type == GGMLType.F32 || Quantizer.canQuantize(type))) {
                return type;
            }
        }
        throw problem(origin, line, "'" + word + "' is not a type glmj quantizes to (" + writableTypes() + ")");
    }

    /** The names of the types a rule may give. */
    public static String writableTypes() {
        return Arrays.stream(GGMLType.values()).filter(t -> t == GGMLType.F32 || Quantizer.canQuantize(t))
                .map(t -> t.ggmlName).collect(Collectors.joining(", "));
    }

    /** A whole-name glob as a regex: {@code *} any run, {@code ?} one character, {@code {a,b}} either. */
    static Pattern glob(String pattern) {
        StringBuilder regex = new StringBuilder();
        boolean inAlternatives = false;
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> regex.append(".*");
                case '?' -> regex.append('.');
                case '{' -> {
                    regex.append("(?:");
                    inAlternatives = true;
                }
                case '}' -> {
                    regex.append(')');
                    inAlternatives = false;
                }
                case ',' -> regex.append(inAlternatives ? "|" : ",");
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }

    private static QuantizeException problem(String origin, int line, String what) {
        return new QuantizeException(origin + ":" + line + ": " + what);
    }

    /** The first rule that matches tensor {@code name} of a model laid out as {@code layout}. */
    public Optional<Rule> ruleFor(String name, LayerLayout layout) {
        for (Rule rule : rules) {
            if (rule.matches(name, layout)) {
                return Optional.of(rule);
            }
        }
        return Optional.empty();
    }

    public String name() {
        return name;
    }

    /** Where the recipe came from: a file, or a built-in recipe's resource. */
    public String origin() {
        return origin;
    }

    public FileType fileType() {
        return fileType;
    }

    /** The description lines; the first is the summary. */
    public List<String> description() {
        return description;
    }

    public String summary() {
        return description.isEmpty() ? "" : description.getFirst();
    }

    public List<Rule> rules() {
        return rules;
    }

    /** The recipe as written. */
    public String text() {
        return text;
    }

    @Override
    public String toString() {
        return name;
    }
}
