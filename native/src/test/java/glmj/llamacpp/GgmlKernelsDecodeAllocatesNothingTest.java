package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.model.GlmDsaEngine;
import glmj.generate.Session;
import glmj.testdata.DecodeAllocations;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** On ggml's kernels too, a decode step allocates nothing on the heap once compiled: its calls build no segments. */
class GgmlKernelsDecodeAllocatesNothingTest {

    @Test
    void decodeStepsAllocateNothingOnceCompiled() throws IOException {
        Oracle.library();
        try (GlmDsaEngine model = GlmDsaEngine.of(GGUFFile.open(TestModels.tinyQuantMix()), 512, 32, new GgmlKernels(2)); Session engine = model.newSession()) {
            for (int prompt : new int[] {DecodeAllocations.SHORT_PROMPT, DecodeAllocations.LONG_PROMPT}) {
                DecodeAllocations.Result result = DecodeAllocations.measure(engine, prompt);
                System.out.println("decode on ggml's kernels after " + prompt + " tokens: " + result);
                assertEquals(0, result.bytes(), "after " + prompt + " tokens: " + result);
            }
        }
    }
}
