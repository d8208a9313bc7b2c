package glmj.model;

import glmj.testdata.DecodeAllocations;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Once its buffers have grown and C2 has compiled the kernels, a decode step allocates nothing on the heap. */
class DecodeAllocatesNothingTest {

    @Test
    void decodeStepsAllocateNothingOnceCompiled() throws IOException {
        try (GlmDsaEngine engine = GlmDsaEngine.open(TestModels.tinyQuantMix(), 256, 32, 2)) {
            DecodeAllocations.Result result = DecodeAllocations.measure(engine);
            System.out.println("decode: " + result);
            assertEquals(0, result.bytes(), result.toString());
        }
    }
}
