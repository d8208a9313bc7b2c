package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.cli.InfoCommandTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<JsonNode> lines(String jsonl) throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : jsonl.strip().split("\n")) {
            nodes.add(JSON.readTree(line));
        }
        return nodes;
    }

    @Test
    void textLinesGetOneResultEachInOrder(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("prompts.txt"), "Hello\n\nThe capital of France is\n");
        Run run = glmj("batch", prompts.toString(), "-n", "4", "--temp", "0", "-c", "64");
        assertEquals(0, run.exitCode(), run.err());
        List<JsonNode> results = lines(run.out());
        assertEquals(2, results.size());
        assertEquals("1", results.get(0).get("id").asText());
        assertEquals("3", results.get(1).get("id").asText());
        assertEquals("The capital of France is", results.get(1).get("prompt").asText());
        for (JsonNode result : results) {
            assertEquals(4, result.get("generated_tokens").asInt());
            assertEquals("token_limit", result.get("stop").asText());
            assertTrue(result.get("prompt_tps").asDouble() > 0);
        }
        Run single = glmj("run", "-p", "The capital of France is", "-n", "4", "--temp", "0", "-c", "64");
        assertEquals(single.out().strip(), results.get(1).get("text").asText().strip());
    }

    @Test
    void jsonlCarriesPerPromptSettingsAndResumeSkipsWhatIsAnswered(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("prompts.jsonl"), """
                {"id": "a", "prompt": "Hello", "n_predict": 2, "temperature": 0}
                {"id": "b", "prompt": "Once upon a time", "n_predict": 5, "seed": 9, "temperature": 1.2}
                """);
        Path answers = dir.resolve("answers.jsonl");
        Files.writeString(answers, "{\"id\": \"a\", \"text\": \"earlier answer\"}\n{\"id\": \"b\", \"te");
        Run run = glmj("batch", prompts.toString(), "-o", answers.toString(), "--resume", "-c", "64");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("1 of 2 prompts already answered"), run.err());
        List<String> lines = Files.readAllLines(answers);
        JsonNode b = JSON.readTree(lines.getLast());
        assertEquals("b", b.get("id").asText());
        assertEquals(5, b.get("generated_tokens").asInt());
        assertEquals(9, b.get("seed").asLong());

        Run again = glmj("batch", prompts.toString(), "-o", answers.toString(), "--resume", "-c", "64");
        assertEquals(0, again.exitCode(), again.err());
        assertEquals(lines, Files.readAllLines(answers), "a second resume has nothing left to do");
    }

    @Test
    void aPromptThatDoesNotFitGetsAnErrorLineAndTheRestGoOn(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("prompts.txt"),
                "one two three four five six seven eight nine ten eleven twelve\nHi\n");
        Run run = glmj("batch", prompts.toString(), "-n", "2", "--temp", "0", "-c", "8");
        assertEquals(0, run.exitCode(), run.err());
        List<JsonNode> results = lines(run.out());
        assertTrue(results.get(0).get("error").asText().contains("context is full"));
        assertFalse(results.get(1).has("error"));
    }

    @Test
    void eachLineIsCheckedAsTheFlagsAreAndABadLineGetsAnErrorLine(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("prompts.jsonl"), """
                {"id": "negative", "prompt": "Hi", "n_predict": -5}
                {"id": "text", "prompt": "Hi", "n_predict": "abc"}
                {"id": "fraction", "prompt": "Hi", "top_k": 2.5}
                {"id": "top_p", "prompt": "Hi", "top_p": 5}
                {"id": "min_p", "prompt": "Hi", "min_p": -1}
                {"id": "typo", "prompt": "Hi", "temprature": 0.5}
                {"id": "stranger", "prompt": "Hi", "colour": "red"}
                {"prompt": "Hi", "n_predict": 2
                ["Hi"]
                {"id": "twice", "prompt": "Hi", "prompt": "Ho"}
                {"id": "no prompt", "text": "Hi"}
                {"id": "ok", "prompt": "Hi", "n_predict": 2, "temperature": 0, "seed": null}
                """);
        Run run = glmj("batch", prompts.toString(), "-c", "64");
        assertEquals(0, run.exitCode(), run.err());
        List<JsonNode> results = lines(run.out());
        assertEquals(12, results.size(), run.out());
        String[] errors = {
                "line 1: \"n_predict\" must be an integer, -1 or more, not -5",
                "line 2: \"n_predict\" must be an integer, -1 or more, not \"abc\"",
                "line 3: \"top_k\" must be an integer, 0 or more, not 2.5",
                "line 4: \"top_p\" must be a number, from 0 to 1, not 5",
                "line 5: \"min_p\" must be a number, from 0 to 1, not -1",
                "line 6: unknown field \"temprature\" (did you mean \"temperature\"?)",
                "line 7: unknown field \"colour\" (the fields are id, prompt, n_predict, temperature, top_k, top_p, min_p, "
                        + "repeat_penalty, frequency_penalty, presence_penalty, repeat_last_n, seed)",
                "line 8: not JSON: ",
                "line 9: expected a JSON object such as {\"prompt\": \"...\"}",
                "line 10: not JSON: Duplicate field 'prompt'",
                "line 11: expected a \"prompt\" string",
        };
        for (int i = 0; i < errors.length; i++) {
            assertTrue(results.get(i).path("error").asText().startsWith(errors[i]), i + ": " + results.get(i));
        }
        assertEquals("negative", results.get(0).get("id").asText());
        assertEquals("8", results.get(7).get("id").asText(), "a line without an id is named by its number");
        assertEquals("ok", results.get(11).get("id").asText());
        assertEquals(2, results.get(11).get("generated_tokens").asInt(), results.get(11).toString());
        assertTrue(run.err().contains("batch: 11 of 12 prompts failed"), run.err());

        // the flags of the same names refuse the same values in the same words
        assertFlagRefused("-n must be an integer, -1 or more, not -5", "batch", prompts.toString(), "-n", "-5");
        assertFlagRefused("--top-p must be a number, from 0 to 1, not 5.0", "run", "-p", "Hi", "--top-p", "5");
        assertFlagRefused("--min-p must be a number, from 0 to 1, not -1.0", "run", "-p", "Hi", "--min-p", "-1");
    }

    private static void assertFlagRefused(String message, String... args) {
        Run run = glmj(args);
        assertEquals(2, run.exitCode(), run.err());
        assertEquals("glmj: " + message, run.err().strip());
    }

    @Test
    void textThatIsNotUtf8IsAnErrorLineForItsLineOnly(@TempDir Path dir) throws Exception {
        Path prompts = dir.resolve("prompts.txt");
        // found by fuzzing: a first line that is not UTF-8 made telling text from JSON lines fail
        Files.write(prompts, new byte[] {(byte) 0xC3, '\n', 'H', 'i', '\n', 'H', 'o', '\n'});
        Run run = glmj("batch", prompts.toString(), "-n", "1", "-c", "64");
        assertEquals(0, run.exitCode(), run.err());
        List<JsonNode> results = lines(run.out());
        assertEquals(List.of("1", "2", "3"), results.stream().map(node -> node.get("id").asText()).toList());
        assertEquals("line 1: not UTF-8 text", results.get(0).get("error").asText());
        assertEquals("Hi", results.get(1).get("prompt").asText());
        assertFalse(results.get(2).has("error"));
    }

    @Test
    void resumeNeedsAnOutputFileAndOutputMustBeAFile(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("prompts.txt"), "Hi\n");
        Run resumeWithoutOutput = glmj("batch", prompts.toString(), "--resume");
        assertEquals(2, resumeWithoutOutput.exitCode());
        assertTrue(resumeWithoutOutput.err().contains("--resume needs -o FILE"), resumeWithoutOutput.err());
        Run intoADirectory = glmj("batch", prompts.toString(), "-o", dir.toString());
        assertEquals(2, intoADirectory.exitCode());
        assertEquals("glmj: -o " + dir + " is a directory; name a file to append the answers to", intoADirectory.err().strip());
    }
}
