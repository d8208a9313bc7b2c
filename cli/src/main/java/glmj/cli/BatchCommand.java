package glmj.cli;

import glmj.engine.Model;
import glmj.generate.Session;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import glmj.generate.ContextFullException;
import glmj.generate.Generation;
import glmj.generate.Generator;
import glmj.sampler.Sampler;
import glmj.sampler.SamplerSettings;
import java.io.BufferedReader;
import java.io.FilterWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "batch",
        mixinStandardHelpOptions = true,
        description = {
            "Answers many prompts, writing one JSON line per prompt as each finishes, with token counts and speeds.",
            "INPUT is a text file with one prompt a line, or JSONL with one object a line, such as {\"id\": \"q1\", \"prompt\": \"...\", \"n_predict\": 64, \"temperature\": 0, \"top_k\": 40, \"top_p\": 0.95, \"min_p\": 0.05, \"seed\": 7}; every field but prompt is optional, and the command line gives the defaults.",
            "Each prompt is a user turn in GLM-5's chat format (--raw: continued as written), from an empty context. A prompt that fails gets an \"error\" line and the rest go on."
        },
        footer = {"", "Examples:",
            "  glmj batch -m model.gguf prompts.txt -o answers.jsonl",
            "  glmj batch -m model.gguf prompts.jsonl -o answers.jsonl --resume   # skip prompts already answered",
            "  cat prompts.txt | glmj batch -m model.gguf - > answers.jsonl"})
final class BatchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions samplingOptions;

    @Mixin
    PromptOptions promptOptions;

    @Parameters(paramLabel = "INPUT", description = "Prompts: a text file (one a line), a .jsonl file, or - for stdin.")
    String input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Append the JSON lines to FILE (default: stdout).")
    Path output;

    @Option(names = "--resume", description = "Skip the prompts whose id already has a line in the -o file.")
    boolean resume;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", description = "Tokens to generate per prompt at most; -1 until the model stops (default: ${DEFAULT-VALUE}).")
    int maxTokens = 256;

    /** One prompt of the input, with its own settings. */
    record Prompt(String id, String text, SamplerSettings settings, int maxTokens) {}

    @Override
    public Integer call() throws IOException {
        if (resume && output == null) {
            throw new UserInputException("--resume needs -o FILE: it skips the prompts already answered there");
        }
        List<Prompt> prompts = readPrompts();
        Set<String> done = resume ? answeredIds(output) : Set.of();
        PrintWriter err = spec.commandLine().getErr();
        int skipped = (int) prompts.stream().filter(prompt -> done.contains(prompt.id())).count();
        if (skipped > 0) {
            err.printf("batch: %d of %d prompts already answered in %s%n", skipped, prompts.size(), output);
        }
        try (Model loaded = modelOptions.load(err); Session session = loaded.newSession(); Writer sink = openOutput()) {
            Generator generator = new Generator(session, loaded.tokenizer(), promptOptions.showsSpecialTokens());
            int finished = skipped;
            for (Prompt prompt : prompts) {
                if (done.contains(prompt.id())) {
                    continue;
                }
                sink.write(JSON.writeValueAsString(answer(loaded, generator, prompt)) + "\n");
                sink.flush();
                err.printf("batch: %d/%d%n", ++finished, prompts.size());
                err.flush();
            }
        }
        return 0;
    }

    private ObjectNode answer(Model loaded, Generator generator, Prompt prompt) {
        ObjectNode line = JSON.createObjectNode();
        line.put("id", prompt.id());
        line.put("prompt", prompt.text());
        try {
            generator.model().truncate(0);
            int[] tokens = promptOptions.tokens(loaded, prompt.text());
            Sampler sampler = new Sampler(prompt.settings(), generator.model().vocabularySize());
            Generation generation = generator.generate(tokens, sampler, prompt.maxTokens(), piece -> { });
            line.put("text", generation.text());
            line.put("prompt_tokens", generation.promptTokens());
            line.put("generated_tokens", generation.generatedTokens());
            line.put("prompt_tps", generation.promptTokensPerSecond());
            line.put("generation_tps", generation.generationTokensPerSecond());
            line.put("stop", generation.stopReason().name().toLowerCase());
            line.put("seed", prompt.settings().seed());
        } catch (ContextFullException | IllegalArgumentException e) {
            line.put("error", e.getMessage());
        }
        return line;
    }

    private List<Prompt> readPrompts() throws IOException {
        List<String> lines;
        String source = input.equals("-") ? "stdin" : input;
        if (input.equals("-")) {
            lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).lines().toList();
        } else {
            lines = Files.readAllLines(Path.of(input), StandardCharsets.UTF_8);
        }
        boolean jsonl = input.endsWith(".jsonl") || lines.stream().filter(line -> !line.isBlank()).findFirst()
                .map(line -> line.stripLeading().startsWith("{")).orElse(false);
        SamplerSettings defaults = samplingOptions.settings();
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String id = Integer.toString(i + 1);
            prompts.add(jsonl ? fromJson(line, source, i + 1, id, defaults) : new Prompt(id, line, defaults, maxTokens));
        }
        if (prompts.isEmpty()) {
            throw new UserInputException(source + ": no prompts");
        }
        return prompts;
    }

    private Prompt fromJson(String line, String source, int lineNumber, String defaultId, SamplerSettings defaults) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new UserInputException(source + ":" + lineNumber + ": not JSON: " + e.getOriginalMessage());
        }
        if (!node.isObject() || !node.path("prompt").isTextual()) {
            throw new UserInputException(source + ":" + lineNumber + ": expected an object with a \"prompt\" string");
        }
        SamplerSettings settings = new SamplerSettings(
                (float) node.path("temperature").asDouble(defaults.temperature()),
                node.path("top_k").asInt(defaults.topK()),
                (float) node.path("top_p").asDouble(defaults.topP()),
                (float) node.path("min_p").asDouble(defaults.minP()),
                (float) node.path("repeat_penalty").asDouble(defaults.repeatPenalty()),
                (float) node.path("frequency_penalty").asDouble(defaults.frequencyPenalty()),
                (float) node.path("presence_penalty").asDouble(defaults.presencePenalty()),
                node.path("repeat_last_n").asInt(defaults.penaltyLastN()),
                node.path("seed").asLong(defaults.seed()));
        String id = node.hasNonNull("id") ? node.get("id").asText() : defaultId;
        return new Prompt(id, node.get("prompt").asText(), settings, node.path("n_predict").asInt(maxTokens));
    }

    private static Set<String> answeredIds(Path file) throws IOException {
        Set<String> ids = new HashSet<>();
        if (!Files.exists(file)) {
            return ids;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (String line : lines) {
            try {
                JsonNode node = JSON.readTree(line);
                if (node != null && node.hasNonNull("id") && node.hasNonNull("text")) {
                    ids.add(node.get("id").asText());
                }
            } catch (JsonProcessingException e) {
                // A line cut short by an interrupted run: its prompt is answered again.
            }
        }
        return ids;
    }

    private Writer openOutput() throws IOException {
        if (output == null) {
            return new NonClosingWriter(spec.commandLine().getOut());
        }
        boolean endsMidLine = Files.exists(output) && Files.size(output) > 0 && endsWithoutNewline(output);
        Writer writer = Files.newBufferedWriter(output, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (endsMidLine) {
            // an interrupted run left half a line: the next result starts on a line of its own
            writer.write("\n");
        }
        return writer;
    }

    private static boolean endsWithoutNewline(Path file) throws IOException {
        try (var channel = Files.newByteChannel(file)) {
            channel.position(channel.size() - 1);
            ByteBuffer last = ByteBuffer.allocate(1);
            channel.read(last);
            return last.get(0) != '\n';
        }
    }

    /** Stdout is not ours to close. */
    private static final class NonClosingWriter extends FilterWriter {
        NonClosingWriter(Writer out) {
            super(out);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
