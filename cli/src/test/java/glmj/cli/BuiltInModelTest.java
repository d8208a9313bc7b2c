package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import glmj.testdata.TestModels;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The model glmj's jar ships is the tiny GLM-5 the current generator writes (its UD-Q2_K_XL-like mix). */
class BuiltInModelTest {

    @Test
    void isTheGeneratorsTinyQuantMix() throws Exception {
        assertEquals(-1, Files.mismatch(BuiltInModel.path(), TestModels.tinyQuantMix()), "the built-in model is stale");
    }
}
