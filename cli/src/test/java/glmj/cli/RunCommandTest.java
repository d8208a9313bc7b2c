package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.cli.InfoCommandTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
    private static final Pattern STATS = Pattern.compile(
            "prompt: (\\d+) tokens, [0-9.]+ tokens/s; generation: (\\d+) tokens, [0-9.]+ tokens/s; stopped: (.+)");

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

    @Test
    void aDirectoryAsTheModelIsOneLineNamingIt(@TempDir Path dir) {
        Run run = glmj("run", "-m", dir.toString(), "-p", "x");
        assertEquals(2, run.exitCode());
        assertEquals("glmj: " + dir + ": a directory glmj cannot read as a model (a Hugging Face checkpoint has config.json"
                + " and .safetensors files; checkpoints are read by glmj's quant module)", run.err().strip());
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
}
