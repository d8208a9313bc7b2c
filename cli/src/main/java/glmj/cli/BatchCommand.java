package glmj.cli;

import glmj.engine.Model;
import glmj.generate.Session;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import glmj.generate.ContextFullException;
import glmj.generate.Generation;
import glmj.generate.Generator;
import glmj.cli.BatchInput.Prompt;
import glmj.sampler.Sampler;
import java.io.FilterWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
            "INPUT is a text file with one prompt a line, or JSONL with one object a line, such as {\"id\": \"q1\", \"prompt\": \"...\", \"n_predict\": 64, \"temperature\": 0, \"top_k\": 40, \"top_p\": 0.95, \"min_p\": 0.05, \"seed\": 7}; every field but prompt is optional and is checked as the flag of the same name, and the command line gives the defaults.",
            "Each prompt is a user turn in GLM-5's chat format (--raw: continued as written), from an empty context. A prompt that fails, or a line that is not one (not JSON, an unknown field, a value out of range), gets an \"error\" line and the rest go on."
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

    @Option(names = "--resume", description = "Skip the prompts already answered in the -o file: a line (an answer or an error) per prompt, so an id given twice is answered twice.")
    boolean resume;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", description = "Tokens to generate per prompt at most; -1 until the model stops (default: ${DEFAULT-VALUE}).")
    int maxTokens = 256;

    @Override
    public Integer call() throws IOException {
        if (resume && output == null) {
            throw new UserInputException("--resume needs -o FILE: it skips the prompts already answered there");
        }
        if (output != null && Files.isDirectory(output)) {
            throw new UserInputException("-o " + output + " is a directory; name a file to append the answers to");
        }
        PromptSetting.N_PREDICT.checkFlag(maxTokens);
        List<Prompt> prompts = BatchInput.read(readInput(), input.endsWith(".jsonl"), samplingOptions.settings(), maxTokens);
        if (prompts.isEmpty()) {
            throw new UserInputException((input.equals("-") ? "stdin" : input) + ": no prompts");
        }
        PrintWriter err = spec.commandLine().getErr();
        if (output != null) {
            String repaired = AnswerFile.repair(output);
            if (repaired != null) {
                err.println("batch: " + repaired);
            }
        }
        List<Prompt> remaining = resume ? unanswered(prompts, AnswerFile.answered(output)) : prompts;
        int skipped = prompts.size() - remaining.size();
        if (skipped > 0) {
            err.printf("batch: %d of %d prompts already answered in %s%n", skipped, prompts.size(), output);
        }
        if (remaining.isEmpty()) {
            return 0;
        }
        int finished = skipped;
        int failed = 0;
        try (Model loaded = modelOptions.load(err); Session session = loaded.newSession(); Writer sink = openOutput()) {
            Generator generator = new Generator(session, loaded.tokenizer(), promptOptions.showsSpecialTokens());
            for (Prompt prompt : remaining) {
                ObjectNode line = prompt.problem() != null ? failure(prompt, prompt.problem()) : answer(loaded, generator, prompt);
                failed += line.has("error") ? 1 : 0;
                write(sink, JSON.writeValueAsString(line) + "\n");
                err.printf("batch: %d/%d%n", ++finished, prompts.size());
                err.flush();
            }
        }
        if (failed > 0) {
            err.printf("batch: %d of %d prompts failed; their lines hold an \"error\"%n", failed, remaining.size());
        }
        return 0;
    }

    /** The prompts {@code answered} does not count yet, in order: each answered line stands for one prompt of its id. */
    private static List<Prompt> unanswered(List<Prompt> prompts, Map<String, Integer> answered) {
        List<Prompt> remaining = new ArrayList<>();
        for (Prompt prompt : prompts) {
            if (answered.getOrDefault(prompt.id(), 0) > 0) {
                answered.merge(prompt.id(), -1, Integer::sum);
            } else {
                remaining.add(prompt);
            }
        }
        return remaining;
    }

    private ObjectNode answer(Model loaded, Generator generator, Prompt prompt) {
        try {
            generator.model().truncate(0);
            int[] tokens = promptOptions.tokens(loaded, prompt.text());
            Sampler sampler = new Sampler(prompt.settings(), generator.model().vocabularySize());
            Generation generation = generator.generate(tokens, sampler, prompt.maxTokens(), piece -> { });
            ObjectNode line = JSON.createObjectNode();
            line.put("id", prompt.id());
            line.put("prompt", prompt.text());
            line.put("text", generation.text());
            line.put("prompt_tokens", generation.promptTokens());
            line.put("generated_tokens", generation.generatedTokens());
            line.put("prompt_tps", generation.promptTokensPerSecond());
            line.put("generation_tps", generation.generationTokensPerSecond());
            line.put("stop", generation.stopReason().name().toLowerCase());
            line.put("seed", prompt.settings().seed());
            return line;
        } catch (ContextFullException | IllegalArgumentException e) {
            return failure(prompt, e.getMessage());
        }
    }

    private static ObjectNode failure(Prompt prompt, String error) {
        ObjectNode line = JSON.createObjectNode();
        line.put("id", prompt.id());
        if (prompt.text() != null) {
            line.put("prompt", prompt.text());
        }
        line.put("error", error);
        return line;
    }

    /** Writes one whole line, so that a run killed between lines leaves whole lines; output that is lost stops the batch. */
    private void write(Writer sink, String line) throws IOException {
        try {
            sink.write(line);
            sink.flush();
        } catch (IOException e) {
            throw new IOException(output + ": " + e.getMessage(), e);
        }
        if (output == null) {
            CheckedOutput.check(spec.commandLine().getOut());
        }
    }

    private byte[] readInput() throws IOException {
        return input.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(input));
    }

    private Writer openOutput() throws IOException {
        if (output == null) {
            return new NonClosingWriter(spec.commandLine().getOut());
        }
        try {
            return Files.newBufferedWriter(output, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (FileSystemException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(output + ": " + e.getMessage(), e);
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
