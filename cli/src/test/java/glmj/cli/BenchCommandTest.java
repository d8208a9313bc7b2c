package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.cli.InfoCommandTest.Run;
import org.junit.jupiter.api.Test;

class BenchCommandTest {

    @Test
    void jsonHasTheMeansAndEveryRepetition() throws Exception {
        Run run = glmj("bench", "-p", "32", "-n", "8", "-r", "3", "-t", "2", "-c", "64", "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode report = new ObjectMapper().readTree(run.out());
        for (String test : new String[] {"pp", "tg"}) {
            JsonNode samples = report.get(test + "_samples");
            assertEquals(3, samples.size());
            double sum = 0;
            for (JsonNode sample : samples) {
                assertTrue(sample.asDouble() > 0);
                sum += sample.asDouble();
            }
            assertEquals(sum / 3, report.get(test + "_tps").asDouble(), 1e-9);
        }
        assertEquals(32, report.get("pp_tokens").asInt());
        assertEquals(8, report.get("tg_tokens").asInt());
    }

    @Test
    void aTestLargerThanTheContextIsRefused() {
        Run run = glmj("bench", "-p", "300", "-n", "0", "-c", "256");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("does not fit in a context of 256"), run.err());
    }
}
