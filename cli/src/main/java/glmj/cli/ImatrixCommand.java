package glmj.cli;

import glmj.engine.KernelChoice;
import glmj.engine.Models;
import glmj.gguf.GGUFFile;
import glmj.kernel.Kernels;
import glmj.quant.imatrix.ImatrixFiles;
import glmj.quant.imatrix.ImportanceMatrix;
import glmj.quant.imatrix.ImportanceRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "imatrix",
        mixinStandardHelpOptions = true,
        description = {
            "Collects an importance matrix with glmj's engine, as llama-imatrix does: the text cut into chunks of -c tokens,"
                + " each run through the model while every matmul's inputs are summed squared per column, per expert for the"
                + " routed experts (with a count per expert; experts no token chose keep a count of 0, which llama-quantize"
                + " and glmj quantize read as importance 1).",
            "The file is llama.cpp's GGUF imatrix format (or its legacy .dat with --output-format dat), which llama-quantize"
                + " and glmj quantize --imatrix read; it is saved every " + ImportanceRun.SAVE_EVERY + " chunks, so an"
                + " interrupted run keeps what it collected."
        },
        footer = {"", "Examples:",
            "  glmj imatrix -m GLM-5-Q8_0-00001-of-00017.gguf --text calibration.txt -o imatrix.gguf",
            "  glmj imatrix -m model.gguf --text wiki.txt -c 512 --chunks 200 -o imatrix.gguf",
            "  glmj quantize --from GLM-5-FP8 --recipe Q2_K_XL --imatrix imatrix.gguf -o GLM-5-Q2_K_XL.gguf"})
final class ImatrixCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "The glm-dsa GGUF to run (any shard of a split set).")
    Path model;

    @Option(names = {"-f", "--text"}, required = true, paramLabel = "FILE", description = "The calibration text (UTF-8).")
    Path text;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "The imatrix file (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("imatrix.gguf");

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "Tokens per chunk (default: ${DEFAULT-VALUE}, llama-imatrix's).")
    int chunkSize = 512;

    @Option(names = "--chunks", paramLabel = "K", description = "Chunks to run at most (default: all the text makes).")
    int chunks = -1;

    @Option(names = "--process-output", description = "Collect the output head's inputs too (llama-imatrix's --process-output).")
    boolean outputHead;

    @Option(names = "--parse-special", description = "Read special tokens written in the text as such (llama-imatrix's --parse-special).")
    boolean parseSpecial;

    @Option(names = "--output-format", paramLabel = "gguf|dat", description = "gguf (default) or llama.cpp's legacy dat.")
    String format = "gguf";

    @Option(names = "--force", description = "Overwrite the output if it exists.")
    boolean force;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--kernels", paramLabel = "NAME", description = "Matmul kernels: auto (default), ggml or vector, as for glmj run.")
    KernelChoice kernels = KernelChoice.auto;

    @Override
    public Integer call() throws IOException {
        if (chunkSize < 1) {
            throw new UserInputException("-c must be at least 1, not " + chunkSize);
        }
        threads.checked();
        if (!format.equals("gguf") && !format.equals("dat")) {
            throw new UserInputException("--output-format is gguf or dat, not '" + format + "'");
        }
        OutputFile.check(output, force);
        PrintWriter out = spec.commandLine().getOut();
        String corpus = Files.readString(text);
        ImportanceRun.Settings settings = new ImportanceRun.Settings(chunkSize, chunks, parseSpecial, outputHead);
        long start = System.nanoTime();
        ImportanceMatrix matrix;
        int chunkCount;
        try (GGUFFile gguf = GGUFFile.open(model)) {
            String architecture = gguf.metadata().getString("general.architecture", "");
            if (!architecture.equals("glm-dsa")) {
                throw new UserInputException(model + ": general.architecture is '" + architecture + "'; glmj runs glm-dsa (GLM-5) models");
            }
            int[] tokens = ImportanceRun.tokens(gguf, corpus, parseSpecial);
            chunkCount = ImportanceRun.chunkCount(tokens.length, settings);
            out.printf("%s: %d tokens, %d chunks of %d%n", text, tokens.length, chunkCount, chunkSize);
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            // exact kernels: the inputs whose squares are summed are those llama-imatrix's ggml kernels compute
            try (Kernels k = Models.kernels(kernels, threads.count, true, notice -> err.println("glmj: " + notice))) {
                matrix = run(gguf, k, tokens, settings, chunkCount);
            }
        }
        save(matrix);
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "wrote %s: %d entries from %d chunks of %d tokens in %.1f s (%.1f tokens/s)%n", output,
                matrix.entries().size(), chunkCount, chunkSize, seconds, chunkCount * (double) chunkSize / seconds);
        out.flush();
        return 0;
    }

    /** The run, saving every few chunks, with a progress bar and ETA on a terminal. */
    private ImportanceMatrix run(GGUFFile gguf, Kernels k, int[] tokens, ImportanceRun.Settings settings, int chunkCount)
            throws IOException {
        String dataset = text.toString();
        ImportanceRun.Progress save = (done, total, collected) -> {
            if (done % ImportanceRun.SAVE_EVERY == 0 && done < total) {
                save(collected.matrix(List.of(dataset), chunkSize));
            }
        };
        if (!TerminalProgress.shown()) {
            return ImportanceRun.collect(gguf, k, tokens, dataset, settings, save);
        }
        try (ProgressBar bar = TerminalProgress.bar("imatrix", "chunks", 1, chunkCount)) {
            return ImportanceRun.collect(gguf, k, tokens, dataset, settings, (done, total, collected) -> {
                save.chunkDone(done, total, collected);
                bar.stepTo(done);
            });
        }
    }

    private void save(ImportanceMatrix matrix) {
        try {
            ImatrixFiles.write(format.equals("dat") ? matrix.inLegacyForm() : matrix, output);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
