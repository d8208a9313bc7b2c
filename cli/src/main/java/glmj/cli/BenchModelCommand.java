package glmj.cli;

import glmj.testdata.BenchGlmDsa;
import glmj.testdata.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Hidden: a tool for measuring glmj, not for running models. */
@Command(
        name = "bench-model",
        hidden = true,
        mixinStandardHelpOptions = true,
        description = {
            "Writes the bench model: GLM-5 scaled down to about 1 GB, with random weights and a UD-Q2_K_XL-like mix, for speed measurements (glmj.testdata.BenchGlmDsa), and prints its path.",
            "Without FILE the model is kept in the temporary directory and reused for as long as glmj's generator is unchanged. Generating it takes a few minutes.",
            "With --checkpoint it writes the same weights as a Hugging Face FP8 checkpoint instead (a directory, about 2.8 GB at full size), the reference 'glmj quality weights' compares the bench model with."
        },
        footer = {"", "Examples:",
            "  glmj bench -m \"$(glmj bench-model)\" -p 64 -n 16 -t 2",
            "  glmj bench-model bench.gguf",
            "  glmj quality weights --reference \"$(glmj bench-model --checkpoint)\" -m \"$(glmj bench-model)\"   # its GB/s against glmj bench --memory"})
final class BenchModelCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "Where to write the model, replacing the file (default: the cached copy).")
    Path file;

    @Option(names = "--small", description = "The same model at test size (n_embd 256, 3 blocks, about 75 MB).")
    boolean small;

    @Option(names = "--checkpoint", description = "Write its weights as a Hugging Face FP8 checkpoint directory instead of a GGUF.")
    boolean checkpoint;

    @Override
    public Integer call() throws IOException {
        BenchGlmDsa.Scale scale = small ? BenchGlmDsa.Scale.SMALL : BenchGlmDsa.Scale.FULL;
        Path model;
        if (checkpoint) {
            if (file != null && Files.exists(file)) {
                throw new UserInputException(file + " exists; --checkpoint writes a new directory");
            }
            model = file == null ? TestModels.benchCheckpoint(scale) : file;
            if (file != null) {
                BenchGlmDsa.writeCheckpoint(file, scale);
            }
        } else if (file == null) {
            model = TestModels.benchModel(scale);
        } else {
            Path parent = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(parent)) {
                throw new UserInputException(parent + ": no such directory");
            }
            BenchGlmDsa.write(file, scale);
            model = file;
        }
        spec.commandLine().getOut().println(model);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
