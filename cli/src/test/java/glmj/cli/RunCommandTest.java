package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import glmj.cli.InfoCommandTest.Run;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
    private static final Pattern STATS = Pattern.compile(
            "prompt: (\\d+) tokens, [0-9.]+ tokens/s; generation: (\\d+) tokens, [0-9.]+ tokens/s; stopped: (.+)");

    /** About 2,900 tokens: seconds of reading for the built-in model, long enough for its progress to show. */
    private static final String LONG_PROMPT = IntStream.range(0, 160)
            .mapToObj(i -> "Sentence " + i + ": the river carries stones past the mill and under the old bridge.")
            .collect(Collectors.joining(" "));
    /** How the prompt's progress bar is drawn and erased: each state over the last from the line's start, then blanks. */
    private static final Pattern PROGRESS = Pattern.compile("\rprompt +\\d+%[^\r\n]* (\\d+)/(\\d+) tokens \\(");
    private static final Pattern ERASED = Pattern.compile("\r {40,}\r");

    private static Matcher stats(Run run) {
        assertEquals(0, run.exitCode(), run.err());
        Matcher matcher = STATS.matcher(run.err());
        assertTrue(matcher.find(), run.err());
        return matcher;
    }

    @Test
    void greedyRunsRepeatAndStopAtTheTokenLimit() {
        Run first = glmj("run", "-p", "The capital of France is", "-n", "12", "--temp", "0", "-c", "256");
        Run second = glmj("run", "-p", "The capital of France is", "-n", "12", "--temp", "0", "-c", "256");
        assertEquals(first.out(), second.out());
        assertFalse(first.out().isBlank());
        Matcher stats = stats(first);
        assertEquals("12", stats.group(2));
        assertEquals("token limit", stats.group(3));
    }

    @Test
    void aNamedModelIsWeighedAgainstTheMachineAndVerboseSaysWhenTheFirstTokenCame() {
        Run run = glmj("run", "-m", BuiltInModel.path().toString(), "-v", "-p", "Hi", "-n", "2", "--temp", "0", "-c", "256");
        stats(run);
        String statement = "glmj: " + BuiltInModel.path().getFileName() + ": [0-9.]+ MiB file, [0-9.]+ MiB of weights read per token"
                + " \\([0-9.]+ MiB in all\\), a KV cache of [0-9.]+ MiB for 256 tokens; the machine has [0-9.]+ GiB of memory,"
                + " [0-9.]+ GiB available";
        assertTrue(run.err().lines().findFirst().orElseThrow().matches(statement), run.err());
        assertTrue(run.err().lines().anyMatch(line -> line.matches("load: [0-9.]+ s \\([0-9.]+ MiB of weights read in\\);"
                + " first token after [0-9.]+ s")), run.err());
        assertFalse(run.err().contains("do not fit"), run.err());
    }

    @Test
    void seedsRepeatSampledRuns() {
        Run a = glmj("run", "-p", "Once upon a time", "-n", "16", "--seed", "11", "--temp", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0");
        Run b = glmj("run", "-p", "Once upon a time", "-n", "16", "--seed", "11", "--temp", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0");
        Run c = glmj("run", "-p", "Once upon a time", "-n", "16", "--seed", "12", "--temp", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0");
        assertEquals(a.out(), b.out());
        assertNotEquals(a.out(), c.out());
    }

    @Test
    void aFullContextStopsTheAnswerWithAReason() {
        Matcher stats = stats(glmj("run", "-p", "Hello there", "-n", "100", "--temp", "0", "-c", "8"));
        assertEquals("context full", stats.group(3));
        // the context holds 8 tokens; the last token is sampled from the logits after the 8th and never stored
        assertEquals(8 + 1, Integer.parseInt(stats.group(1)) + Integer.parseInt(stats.group(2)));
    }

    @Test
    void aPromptLongerThanTheContextIsOneLineAndExitCodeTwo() {
        Run run = glmj("run", "-p", "one two three four five six seven eight nine ten", "-c", "4");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("the context is full"), run.err());
        assertEquals(1, run.err().strip().lines().filter(line -> line.startsWith("glmj:")).count(), run.err());
    }

    @Test
    void readsThePromptFromAFile(@TempDir Path dir) throws Exception {
        Path prompt = Files.writeString(dir.resolve("prompt.txt"), "The capital of France is");
        Run fromFile = glmj("run", "-f", prompt.toString(), "-n", "6", "--temp", "0", "-c", "64");
        Run inline = glmj("run", "-p", "The capital of France is", "-n", "6", "--temp", "0", "-c", "64");
        assertEquals(inline.out(), fromFile.out());
        Run missing = glmj("run", "-f", dir.resolve("absent.txt").toString());
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("absent.txt: no such file"), missing.err());
    }

    @Test
    void badSamplingValuesAreRefused() {
        String[][] refused = {
                {"--top-p", "1.5", "--top-p must be a number, from 0 to 1, not 1.5"},
                {"--temp", "-1", "--temp must be a number, 0 or more, not -1.0"},
                {"--temp", "NaN", "--temp must be a number, 0 or more, not NaN"},
                {"--repeat-penalty", "0", "--repeat-penalty must be a number, more than 0, not 0.0"},
                {"--top-k", "-3", "--top-k must be an integer, 0 or more, not -3"},
                {"-n", "-2", "-n must be an integer, -1 or more, not -2"},
                {"-t", "1000", "-t must be from 1 to " + Runtime.getRuntime().availableProcessors() + " (the cores here), not 1000"},
        };
        for (String[] flag : refused) {
            Run run = glmj("run", "-p", "x", flag[0], flag[1]);
            assertEquals(2, run.exitCode(), run.err());
            assertEquals("glmj: " + flag[2], run.err().strip());
        }
    }

    /** A flag picocli cannot parse is one line too, which says where the flags are explained. */
    @Test
    void anUnparsableCommandLineIsOneLine() {
        String[][] refused = {
                {"run", "--bogus", "Unknown option: '--bogus' (see 'glmj run --help')"},
                {"run", "-n", "Missing required parameter for option '--n-predict' (N) (see 'glmj run --help')"},
                {"quality", "compare", "--reference", "base.kld", "Missing required option: '--model=MODEL' (see 'glmj quality compare --help')"},
        };
        for (String[] line : refused) {
            Run run = glmj(Arrays.copyOf(line, line.length - 1));
            assertEquals(2, run.exitCode(), run.err());
            assertEquals("glmj: " + line[line.length - 1], run.err().strip());
        }
    }

    @Test
    void aDirectoryAsTheModelIsOneLineNamingIt(@TempDir Path dir) {
        Run run = glmj("run", "-m", dir.toString(), "-p", "x");
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + dir + ": is a directory, not a GGUF file nor a Hugging Face checkpoint (config.json and .safetensors files)", run.err().strip());
    }

    @Test
    void promptsGoAsAChatTurnUnlessRaw() {
        // "Hi" alone is one token; as a chat turn it gains [gMASK] <sop> <|user|> ... <|assistant|> <think>
        Matcher raw = stats(glmj("run", "--raw", "-p", "Hi", "-n", "1", "--temp", "0", "-c", "64"));
        Matcher chat = stats(glmj("run", "-p", "Hi", "-n", "1", "--temp", "0", "-c", "64"));
        Matcher system = stats(glmj("run", "--system", "Be brief.", "-p", "Hi", "-n", "1", "--temp", "0", "-c", "64"));
        assertEquals(1, Integer.parseInt(raw.group(1)));
        assertEquals(6, Integer.parseInt(chat.group(1)));
        assertTrue(Integer.parseInt(system.group(1)) > 6);
    }

    /** What glmj printed on a terminal (a pty that script(1) makes, stdin included), run as {@code shell} runs it. */
    record Screen(int exitCode, String text) {}

    /** glmj on a terminal, given {@code seconds} to end: a wait for a keyboard where nobody types fails, not hangs. */
    private static Screen onATerminal(Path dir, long seconds, String redirection, String... args) throws Exception {
        assumeTrue(new File("/usr/bin/script").canExecute(), "script(1) from util-linux makes the terminal");
        String command = ChildGlmj.command(args).command().stream()
                .map(arg -> "'" + arg.replace("'", "'\\''") + "'").collect(Collectors.joining(" ")) + redirection;
        Path screen = dir.resolve("screen.txt");
        // script's own stdin stays open, unwritten: the terminal's keyboard, where nobody types
        Process process = new ProcessBuilder("script", "-qfec", command, "/dev/null").redirectErrorStream(true)
                .redirectOutput(screen.toFile()).start();
        try {
            boolean ended = process.waitFor(seconds, TimeUnit.SECONDS);
            String text = Files.readString(screen, StandardCharsets.UTF_8);
            assertTrue(ended, "glmj still runs after " + seconds + " s: " + text);
            return new Screen(process.exitValue(), text);
        } finally {
            process.destroyForcibly();
        }
    }

    /** On a terminal a long prompt's progress shows on stderr, and is erased before the answer. */
    @Test
    void aLongPromptsProgressShowsOnATerminalUntilTheAnswerStarts(@TempDir Path dir) throws Exception {
        Path prompt = Files.writeString(dir.resolve("prompt.txt"), LONG_PROMPT);
        Screen run = onATerminal(dir, 300, "", "run", "-f", prompt.toString(), "-n", "4", "--temp", "0", "-c", "4096");
        String screen = run.text();
        assertEquals(0, run.exitCode(), screen);
        Matcher stats = STATS.matcher(screen);
        assertTrue(stats.find(), screen);
        int promptTokens = Integer.parseInt(stats.group(1));
        Matcher progress = PROGRESS.matcher(screen);
        int shown = 0, lastShown = -1;
        while (progress.find()) {
            shown++;
            lastShown = progress.end();
            assertEquals(promptTokens, Integer.parseInt(progress.group(2)), "the prompt's tokens");
        }
        assertTrue(shown > 0, "no progress on the terminal: " + screen);
        Matcher erased = ERASED.matcher(screen);
        assertTrue(erased.find(lastShown), "the progress is not erased: " + screen);
        assertTrue(erased.end() < stats.start(), "the progress is erased before the answer: " + screen);
    }

    /** Piped, the same prompt shows nothing of its progress: stderr has the speeds alone. */
    @Test
    void aLongPromptsProgressDoesNotGoIntoPipedOutput(@TempDir Path dir) throws Exception {
        Path prompt = Files.writeString(dir.resolve("prompt.txt"), LONG_PROMPT);
        Run run = glmj("run", "-f", prompt.toString(), "-n", "4", "--temp", "0", "-c", "4096");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(STATS.matcher(run.err().strip()).matches(), run.err());
        assertFalse(run.err().contains("\r") || run.out().contains("\r"), run.err());
    }

    /** With stdin a terminal and no prompt given, run says so at once, also when its output goes to a file. */
    @Test
    void noPromptOnATerminalIsOneLineEvenWithStdoutRedirected(@TempDir Path dir) throws Exception {
        Screen run = onATerminal(dir, 60, " > /dev/null", "run", "-n", "4");
        assertEquals(2, run.exitCode(), run.text());
        assertTrue(run.text().contains("glmj: no prompt: give -p TEXT, -f FILE, or pipe it to stdin"), run.text());
    }
}
