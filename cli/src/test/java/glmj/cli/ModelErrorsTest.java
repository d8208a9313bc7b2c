package glmj.cli;

import static glmj.cli.InfoCommandTest.glmj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.cli.InfoCommandTest.Run;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFWriter;
import glmj.tensor.GGMLType;
import glmj.testdata.FullWidthGlmDsa;
import glmj.testdata.TestModels;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model glmj cannot run is one line on stderr naming the file (and the tensor), with exit code 2, not a stack trace. */
class ModelErrorsTest {

    @Test
    void anotherArchitectureIsOneLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("glm4moe.gguf");
        try (GGUFFile tiny = GGUFFile.open(TestModels.tinyQuantMix())) {
            GGUFWriter.copyOf(tiny).putString("general.architecture", "glm4moe").write(file);
        }
        Run run = glmj("run", "-m", file.toString(), "-p", "Hi", "-n", "1");
        assertEquals(2, run.exitCode(), run.err());
        assertEquals(List.of("glmj: " + file + ": general.architecture is 'glm4moe'; glmj runs glm-dsa"), run.err().strip().lines().toList());
    }

    @Test
    void aTensorOfTheWrongShapeIsOneLineNamingIt(@TempDir Path dir) throws Exception {
        String name = "blk.0.attn_q_a.weight";
        for (long[] shape : new long[][] {{0, 768}, {512, 768}}) {
            Path file = dir.resolve("shape-" + shape[0] + ".gguf");
            try (GGUFFile tiny = GGUFFile.open(TestModels.tinyQuantMix()); Arena arena = Arena.ofConfined()) {
                GGUFWriter.copyOf(tiny).removeTensor(name)
                        .addTensor(name, GGMLType.F32, shape, arena.allocate(shape[0] * shape[1] * Float.BYTES + 0, 4))
                        .write(file);
            }
            for (String kernels : new String[] {"vector", "auto"}) {
                Run run = glmj("run", "-m", file.toString(), "--kernels", kernels, "-p", "Hi", "-n", "1");
                assertEquals(2, run.exitCode(), run.err());
                List<String> lines = run.err().strip().lines().toList();
                assertEquals(1, lines.size(), run.err());
                assertTrue(lines.getFirst().startsWith("glmj: " + file + ": tensor " + name + " has shape [" + shape[0] + ", 768]"),
                        run.err());
            }
        }
    }

    /**
     * GLM-5's metadata with a context of 2^30 tokens: its KV cache (about 107 TiB) fits on no machine, which is one line
     * before anything loads.
     */
    @Test
    void aKvCacheLargerThanTheMemoryIsOneLine(@TempDir Path dir) throws Exception {
        Path glm5 = dir.resolve("glm5.gguf");
        Path file = dir.resolve("glm5-long.gguf");
        FullWidthGlmDsa.writeMetadataOnly(glm5, FullWidthGlmDsa.GLM_5);
        try (GGUFFile metadata = GGUFFile.open(glm5)) {
            GGUFWriter.copyOf(metadata).putUInt32("glm-dsa.context_length", 1 << 30).write(file);
        }
        for (String command : new String[] {"run", "bench"}) {
            Run run = glmj(command, "-m", file.toString(), "-c", String.valueOf(1 << 30), "-p", "1", "-n", "1");
            assertEquals(2, run.exitCode(), run.err());
            List<String> lines = run.err().strip().lines().toList();
            assertEquals(1, lines.size(), run.err());
            assertTrue(lines.getFirst().matches("glmj: the KV cache of a 1,073,741,824-token context needs [0-9.]+ TiB, more than"
                    + " the [0-9.]+ GiB of memory available \\([0-9.]+ GiB in all\\): lower the context size with -c"), run.err());
        }
    }

    @Test
    void aContextLargerThanTheModelsIsOneLine() {
        Run run = glmj("run", "-c", "100000", "-p", "Hi", "-n", "1");
        assertEquals(2, run.exitCode(), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(run.err().contains("more than the model's 4096"), run.err());
    }
}
