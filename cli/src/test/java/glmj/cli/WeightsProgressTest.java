package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.engine.PageIn;
import glmj.gguf.ActiveWeights;
import glmj.gguf.GGUFFile;
import glmj.testdata.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** While the weights are read in, a terminal sees how many megabytes of how many are in, up to all of them. */
class WeightsProgressTest {

    @Test
    void theBarCountsTheMegabytesReadInUpToAll() throws Exception {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        try (GGUFFile file = GGUFFile.open(TestModels.tinyQuantMix());
             PageIn pageIn = PageIn.start(ActiveWeights.readWhole(file, true))) {
            long megabytes = pageIn.total() / 1_000_000;
            assertTrue(megabytes > 1, "a model of " + pageIn.total() + " bytes");
            ModelOptions.showProgress(pageIn, new PrintStream(terminal, true, StandardCharsets.UTF_8));
            assertEquals(pageIn.total(), pageIn.done());
            String shown = terminal.toString(StandardCharsets.UTF_8);
            assertTrue(shown.contains("reading weights 100%"), shown);
            assertTrue(shown.contains(megabytes + "/" + megabytes + " MB"), shown);
        }
    }
}
