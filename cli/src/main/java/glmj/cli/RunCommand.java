package glmj.cli;

import glmj.engine.Model;
import glmj.engine.Units;
import glmj.generate.Session;
import glmj.generate.Generation;
import glmj.generate.Generator;
import glmj.sampler.Sampler;
import glmj.sampler.SamplerSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Answers a prompt, streaming the text to stdout; prompt and generation speeds go to stderr at the end. While a long prompt is read, its progress shows on stderr when that is a terminal.",
            "The prompt comes from -p, from a file with -f, or from stdin. It is sent as a user turn in GLM-5's chat format, so the answer starts with the model's reasoning, up to </think>; --raw continues the prompt as written instead."
        },
        footer = {"", "Examples:",
            "  glmj run -m GLM-5-UD-Q2_K_XL-00001-of-00006.gguf -p 'What is the capital of France?' -n 256",
            "  glmj run -f question.txt --temp 0 --no-think   # greedy, no reasoning: the same text every run",
            "  echo 'Once upon a time' | glmj run --raw --seed 7"})
final class RunCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions samplingOptions;

    @Mixin
    PromptOptions promptOptions;

    @ArgGroup(exclusive = true)
    PromptSource prompt;

    static final class PromptSource {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The prompt.")
        String text;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the prompt from FILE.")
        Path file;
    }

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", description = "Tokens to generate at most; -1 until the model stops or the context is full (default: ${DEFAULT-VALUE}).")
    int maxTokens = -1;

    /** Its -v: say on stderr how long loading took (the weights read in) and when the first token came, from the start. */
    @ParentCommand
    Main main;

    @Override
    public Integer call() throws IOException {
        PromptSetting.N_PREDICT.checkFlag(maxTokens);
        String text = promptText();
        SamplerSettings settings = samplingOptions.settings();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long loading = System.nanoTime();
        try (Model loaded = modelOptions.load(err); Session session = loaded.newSession()) {
            long loadNanos = System.nanoTime() - loading;
            int[] tokens = promptOptions.tokens(loaded, text);
            Generator generator = new Generator(session, loaded.tokenizer(), promptOptions.showsSpecialTokens());
            Generation generation;
            try (PromptProgressBar progress = PromptProgressBar.on(err, SystemTerminal.stderrWidth())) {
                generator.onPromptProgress(progress);
                generation = generator.generate(tokens, new Sampler(settings, session.vocabularySize()), maxTokens, piece -> {
                    out.print(piece);
                    CheckedOutput.check(out);
                });
            }
            out.println();
            CheckedOutput.check(out);
            err.printf("prompt: %d tokens, %.2f tokens/s; generation: %d tokens, %.2f tokens/s; stopped: %s%n",
                    generation.promptTokens(), generation.promptTokensPerSecond(),
                    generation.generatedTokens(), generation.generationTokensPerSecond(),
                    generation.stopReason().name().toLowerCase().replace('_', ' '));
            if (main.verbose) {
                err.printf("load: %.2f s (%s of weights read in); first token after %.2f s%n", loadNanos / 1e9,
                        Units.bytes(loaded.pageIn() == null ? 0 : loaded.pageIn().total()), (loadNanos + generation.promptNanos()) / 1e9);
            }
            err.flush();
        }
        return 0;
    }

    private String promptText() throws IOException {
        if (prompt != null && prompt.text != null) {
            return prompt.text;
        }
        if (prompt != null && prompt.file != null) {
            return Files.readString(prompt.file, StandardCharsets.UTF_8);
        }
        if (SystemTerminal.isStdin()) {
            throw new UserInputException("no prompt: give -p TEXT, -f FILE, or pipe it to stdin");
        }
        return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
