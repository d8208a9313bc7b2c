package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.cli.InfoCommandTest.Run;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code batch --resume} after a run that was stopped anywhere: a valid file, every prompt answered exactly once. */
class BatchResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Prompts with an id given twice and text beyond ASCII, so answers hold multi-byte characters a cut can split. */
    private static final String PROMPTS = """
            {"id": "x", "prompt": "Hello"}
            {"id": "x", "prompt": "Grüße aus Köln, 你好"}
            {"id": "y", "prompt": "Once upon a time"}
            {"id": "z", "prompt": "¿Qué tal? Ça va très bien"}
            """;
    private static final String[] OPTIONS = {"-n", "6", "--temp", "0", "-c", "64"};

    @TempDir
    Path dir;

    private Path prompts() throws IOException {
        return Files.writeString(dir.resolve("prompts.jsonl"), PROMPTS);
    }

    private Run batch(Path prompts, Path answers) {
        List<String> args = new ArrayList<>(List.of("batch", prompts.toString(), "-o", answers.toString(), "--resume"));
        args.addAll(List.of(OPTIONS));
        return glmj(args.toArray(String[]::new));
    }

    /** Every line of {@code answers} is a JSON object; returns how many lines each id has. */
    static Map<String, Integer> validLines(Path answers) throws IOException {
        byte[] bytes = Files.readAllBytes(answers);
        assertTrue(bytes.length == 0 || bytes[bytes.length - 1] == '\n', "the file ends in a whole line");
        Map<String, Integer> ids = new HashMap<>();
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isEmpty()) {
                JsonNode node = JSON.readTree(line);
                assertTrue(node.has("text") || node.has("error"), line);
                ids.merge(node.get("id").asText(), 1, Integer::sum);
            }
        }
        return ids;
    }

    private static final Map<String, Integer> EVERY_PROMPT_ONCE = Map.of("x", 2, "y", 1, "z", 1);

    @Test
    void anIdGivenTwiceIsAnsweredTwice() throws Exception {
        Path answers = dir.resolve("answers.jsonl");
        // a run killed after the first x
        Files.writeString(answers, "{\"id\": \"x\", \"prompt\": \"Hello\", \"text\": \" earlier\"}\n");
        Run run = batch(prompts(), answers);
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("1 of 4 prompts already answered"), run.err());
        assertEquals(EVERY_PROMPT_ONCE, validLines(answers));
        List<String> lines = Files.readAllLines(answers);
        assertEquals("Grüße aus Köln, 你好", JSON.readTree(lines.get(1)).get("prompt").asText(), "the second x is the one answered");
    }

    /** An answer file written by a whole batch of {@link #PROMPTS}. */
    static byte[] completeAnswers(Path dir) throws IOException {
        Path prompts = Files.writeString(dir.resolve("prompts-for-answers.jsonl"), PROMPTS);
        Path complete = dir.resolve("complete.jsonl");
        List<String> args = new ArrayList<>(List.of("batch", prompts.toString(), "-o", complete.toString()));
        args.addAll(List.of(OPTIONS));
        assertEquals(0, glmj(args.toArray(String[]::new)).exitCode());
        return Files.readAllBytes(complete);
    }

    @Test
    void aLastLineCutShortIsRemovedAndItsPromptAnsweredAgain() throws Exception {
        Path prompts = prompts();
        byte[] bytes = completeAnswers(dir);
        String text = new String(bytes, StandardCharsets.UTF_8);
        int insideCharacter = text.substring(0, text.indexOf('你')).getBytes(StandardCharsets.UTF_8).length + 1;
        String byBytes = new String(bytes, StandardCharsets.ISO_8859_1);
        int lastNewline = byBytes.lastIndexOf('\n', byBytes.length() - 2);
        Path cut = dir.resolve("cut.jsonl");
        for (int length : new int[] {1, bytes.length / 3, insideCharacter, lastNewline, bytes.length - 2, bytes.length - 1}) {
            Files.write(cut, Arrays.copyOf(bytes, length));
            Run run = batch(prompts, cut);
            assertEquals(0, run.exitCode(), "cut at byte " + length + ": " + run.err());
            assertEquals(EVERY_PROMPT_ONCE, validLines(cut), "cut at byte " + length);
        }
    }

    @Test
    void killedAtRandomMomentsTheResumedFileAnswersEveryPromptExactlyOnce() throws Exception {
        StringBuilder many = new StringBuilder();
        Map<String, Integer> expected = new HashMap<>();
        for (int i = 0; i < 16; i++) {
            String id = "p" + i % 12;
            many.append("{\"id\": \"").append(id).append("\", \"prompt\": \"Prompt ").append(i).append(": Grüße, 你好\"}\n");
            expected.merge(id, 1, Integer::sum);
        }
        Path prompts = Files.writeString(dir.resolve("many.jsonl"), many);
        Path answers = dir.resolve("answers.jsonl");
        String[] args = {"batch", prompts.toString(), "-o", answers.toString(), "--resume", "-n", "24", "--temp", "0", "-c", "64", "-t", "1"};
        Random random = new Random(20260401);
        int killedMidway = 0;
        for (int round = 0; round < 6; round++) {
            long sizeBefore = Files.exists(answers) ? Files.size(answers) : 0;
            Process process = ChildGlmj.command(args).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            // once this run has written, let it go on for a random while (within a prompt or a few), then kill -9 it
            while (process.isAlive() && (Files.exists(answers) ? Files.size(answers) : 0) == sizeBefore) {
                Thread.sleep(2);
            }
            if (!process.waitFor(random.nextInt(400), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                killedMidway++;
            }
            // whatever the moment, the file holds whole answers, no prompt twice, and at most a cut last line
            byte[] bytes = Files.readAllBytes(answers);
            int whole = new String(bytes, StandardCharsets.ISO_8859_1).lastIndexOf('\n') + 1;
            Path wholeLines = Files.write(dir.resolve("round.jsonl"), Arrays.copyOf(bytes, whole));
            validLines(wholeLines).forEach((id, count) -> assertTrue(count <= expected.get(id), id + " answered " + count + " times"));
        }
        assertTrue(killedMidway >= 3, killedMidway + " runs killed while answering");
        Process last = ChildGlmj.command(args).redirectErrorStream(true).start();
        String output = new String(last.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, last.waitFor(), output);
        assertEquals(expected, validLines(answers));
    }
}
