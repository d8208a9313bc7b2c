package glmj.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code glmj quality}: how much a quantized model loses against a reference. */
@Command(
        name = "quality",
        mixinStandardHelpOptions = true,
        description = "Measures what a quantization loses against a reference (the FP8 or BF16 checkpoint, or a GGUF).",
        subcommands = {QualityWeightsCommand.class, QualityReferenceCommand.class, QualityCompareCommand.class},
        footer = {"", "Run 'glmj help quality COMMAND' for a command's options and examples."})
final class QualityCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
