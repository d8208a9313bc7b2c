package glmj.cli;

import glmj.engine.Model;
import glmj.engine.Models;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Which model to load and how: the options every command that runs a model shares, named like llama.cpp's. */
final class ModelOptions {

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model, or any shard of a split set, or a GLM-5"
            + " Hugging Face checkpoint directory (default: the built-in tiny GLM-5).")
    Path model;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "Context size in tokens; 0 takes the model's own (default: ${DEFAULT-VALUE}).")
    int contextSize = glmj.engine.ModelOptions.defaults().contextSize();

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "Prompt tokens processed per batch (default: ${DEFAULT-VALUE}).")
    int batchSize = glmj.engine.ModelOptions.defaults().batchSize();

    @Mixin
    EngineOptions engine;

    /** The model file: the one named, or the built-in tiny GLM-5. */
    Path path() {
        return model != null ? model : BuiltInModel.path();
    }

    /** Loads the model; what is worth telling the user (such as an unusable chat template) goes to {@code notices}. */
    Model load(PrintWriter notices) throws IOException {
        return Models.open(path(), engine.options(contextSize, batchSize, false), warning -> notices.println("glmj: " + warning));
    }
}
