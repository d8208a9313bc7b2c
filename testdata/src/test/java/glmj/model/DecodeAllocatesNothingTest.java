package glmj.model;

import glmj.generate.Session;
import glmj.testdata.DecodeAllocations;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Once its buffers have grown and C2 has compiled the kernels, a decode step allocates nothing on the heap. */
class DecodeAllocatesNothingTest {

    @Test
    void decodeStepsAllocateNothingOnceCompiled() throws IOException {
        try (GlmDsaEngine model = GlmDsaEngine.open(TestModels.tinyQuantMix(), 512, 32, 2); Session engine = model.newSession()) {
            for (int prompt : new int[] {DecodeAllocations.SHORT_PROMPT, DecodeAllocations.LONG_PROMPT}) {
                DecodeAllocations.Result result = DecodeAllocations.measure(engine, prompt);
                System.out.println("decode after " + prompt + " tokens: " + result);
                assertEquals(0, result.bytes(), "after " + prompt + " tokens: " + result);
            }
        }
    }
}
