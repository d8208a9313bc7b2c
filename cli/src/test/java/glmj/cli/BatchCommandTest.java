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
    void malformedJsonlNamesTheLine(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("prompts.jsonl"), "{\"prompt\": \"ok\"}\n{\"prompt\": 3}\n");
        Run run = glmj("batch", prompts.toString());
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("prompts.jsonl:2: expected an object with a \"prompt\" string"), run.err());
        Run resumeWithoutOutput = glmj("batch", prompts.toString(), "--resume");
        assertEquals(2, resumeWithoutOutput.exitCode());
        assertTrue(resumeWithoutOutput.err().contains("--resume needs -o FILE"), resumeWithoutOutput.err());
    }
}
