package glmj.cli;

import glmj.engine.MachineMemory;
import glmj.engine.Model;
import glmj.engine.Models;
import glmj.engine.PageIn;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import java.io.IOException;
import java.io.PrintStream;
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

    /** Waits for the weights shorter than this without showing progress. */
    private static final long QUIET_WAIT_MILLIS = 1000;

    /** The model file: the one named, or the built-in tiny GLM-5. */
    Path path() {
        return model != null ? model : BuiltInModel.path();
    }

    /**
     * Loads the model and waits for its weights to be read into memory (with a progress bar on a terminal when that
     * takes a while); what is worth telling the user goes to {@code notices}: the loader's notices (an unusable chat
     * template, weights that will not stay in memory) and, for a model given with -m, once it is checked and before its
     * weights are read, what the run needs in memory against what the machine has.
     */
    Model load(PrintWriter notices) throws IOException {
        return load(path(), model != null, notices);
    }

    /** Another model, {@code file}, loaded as {@link #load} loads the chosen one: the same engine, context and batches. */
    Model loadAlso(Path file, PrintWriter notices) throws IOException {
        return load(file, false, notices);
    }

    private Model load(Path file, boolean statePlan, PrintWriter notices) throws IOException {
        Model loaded = Models.open(file, engine.options(contextSize, batchSize, false), notice -> notices.println("glmj: " + notice),
                MachineMemory.now(), plan -> {
                    if (statePlan) {
                        notices.println("glmj: " + plan.statement());
                        notices.flush();
                    }
                });
        notices.flush();
        try {
            awaitWeights(loaded.pageIn());
        } catch (RuntimeException | InterruptedException e) {
            loaded.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new UserInputException("interrupted while reading the weights");
            }
            throw (RuntimeException) e;
        }
        return loaded;
    }

    /** Waits for {@code pageIn} to finish; a progress bar on a terminal if it takes a while. */
    private static void awaitWeights(PageIn pageIn) throws InterruptedException {
        if (pageIn == null || pageIn.await(QUIET_WAIT_MILLIS)) {
            return;
        }
        if (System.console() != null && System.console().isTerminal()) {
            showProgress(pageIn, System.err);
        } else {
            pageIn.await(Long.MAX_VALUE);
        }
    }

    /** Waits for {@code pageIn} to finish, showing on {@code terminal} a bar of the megabytes read in, with speed and ETA. */
    static void showProgress(PageIn pageIn, PrintStream terminal) throws InterruptedException {
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("reading weights").setInitialMax(pageIn.total() / 1_000_000)
                .setUnit(" MB", 1).showSpeed().setConsumer(new ConsoleProgressBarConsumer(terminal)).build()) {
            while (!pageIn.await(200)) {
                bar.stepTo(pageIn.done() / 1_000_000);
            }
            bar.stepTo(pageIn.total() / 1_000_000);
        }
    }
}
