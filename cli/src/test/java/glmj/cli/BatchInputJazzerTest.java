package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import glmj.cli.BatchInput.Prompt;
import glmj.sampler.SamplerSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Timeout;

/**
 * Jazzer fuzzing of what {@code batch} reads: any input yields, line by line, a prompt whose settings the flags would
 * accept or an error for that line; any {@code -o} file left by a killed run is repaired to whole lines, of which
 * {@link AnswerFile#answered} counts those that are answers. Seeds in BatchInputJazzerTestInputs run as regression
 * tests; {@code scripts/fuzz batch} and {@code scripts/fuzz answers} fuzz.
 */
class BatchInputJazzerTest {
    private static final Path ANSWERS;

    static {
        try {
            ANSWERS = Files.createTempFile("glmj-answers-fuzz", ".jsonl");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "5m")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void read(byte[] bytes) {
        for (boolean jsonl : new boolean[] {false, true}) {
            List<Prompt> prompts = BatchInput.read(bytes, jsonl, SamplerSettings.DEFAULTS, 256);
            for (Prompt prompt : prompts) {
                assertNotNull(prompt.id());
                if (prompt.problem() != null) {
                    assertTrue(prompt.problem().startsWith("line "), prompt.problem());
                    continue;
                }
                assertNotNull(prompt.text());
                SamplerSettings s = prompt.settings();
                assertTrue(PromptSetting.N_PREDICT.accepts(prompt.maxTokens()), prompt.toString());
                for (PromptSetting setting : PromptSetting.values()) {
                    Number value = switch (setting) {
                        case N_PREDICT -> prompt.maxTokens();
                        case TEMPERATURE -> s.temperature();
                        case TOP_K -> s.topK();
                        case TOP_P -> s.topP();
                        case MIN_P -> s.minP();
                        case REPEAT_PENALTY -> s.repeatPenalty();
                        case FREQUENCY_PENALTY -> s.frequencyPenalty();
                        case PRESENCE_PENALTY -> s.presencePenalty();
                        case REPEAT_LAST_N -> s.penaltyLastN();
                        case SEED -> s.seed();
                    };
                    assertTrue(setting.accepts(value), setting + " = " + value + " in " + prompt);
                }
            }
        }
    }

    @FuzzTest(maxDuration = "5m")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void repair(byte[] bytes) throws IOException {
        Files.write(ANSWERS, bytes);
        AnswerFile.repair(ANSWERS);
        byte[] repaired = Files.readAllBytes(ANSWERS);
        // the file as it was, or ended by a newline, or cut after one of its newlines
        boolean same = Arrays.equals(bytes, repaired);
        boolean ended = repaired.length == bytes.length + 1 && Arrays.equals(bytes, Arrays.copyOf(repaired, bytes.length));
        boolean cut = repaired.length < bytes.length && Arrays.equals(repaired, Arrays.copyOf(bytes, repaired.length))
                && (repaired.length == 0 || repaired[repaired.length - 1] == '\n');
        assertTrue(same || ended || cut, "repaired into something else");
        assertTrue(repaired.length == 0 || repaired[repaired.length - 1] == '\n', "ends in a whole line");
        long lines = IntStream.range(0, repaired.length).filter(i -> repaired[i] == '\n').count();
        assertTrue(AnswerFile.answered(ANSWERS).values().stream().mapToInt(Integer::intValue).sum() <= lines);
    }
}
