package glmj.llamacpp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of llama.cpp's tools that scripts/install-llama builds into {@code bin/} beside the libraries. A tool
 * runs from the library folder, where ggml finds its CPU backend, with {@code GGML_BACKEND_PATH} unset and absolute
 * paths for its files.
 */
final class LlamaTool {

    private LlamaTool() {
    }

    /** What a tool printed (stdout and stderr together) and its exit code. */
    record Output(int exitCode, String text) {
        Output succeeded() {
            if (exitCode != 0) {
                List<String> lines = text.lines().toList();
                throw new AssertionError("exit code " + exitCode + ":\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
            }
            return this;
        }
    }

    /**
     * Runs {@code tool} with {@code arguments}, its output going to {@code log}; a tool that is missing, fails or
     * takes more than ten minutes fails the test with the end of its output.
     */
    static void run(String tool, Path log, String... arguments) throws IOException, InterruptedException {
        int exitCode = start(tool, log, arguments);
        new Output(exitCode, Files.readString(log, StandardCharsets.UTF_8)).succeeded();
    }

    /** Runs {@code tool} with {@code arguments} and returns what it printed, whatever its exit code. */
    static Output output(String tool, String... arguments) throws IOException, InterruptedException {
        Path log = Files.createTempFile("glmj-" + tool, ".log");
        try {
            int exitCode = start(tool, log, arguments);
            return new Output(exitCode, Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static int start(String tool, Path log, String... arguments) throws IOException, InterruptedException {
        Path library = LlamaLibrary.configuredDirectory().toAbsolutePath().normalize();
        Path executable = library.resolveSibling("bin").resolve(tool);
        if (!Files.isExecutable(executable)) {
            throw new AssertionError(executable + " is missing: run scripts/install-llama (it builds llama.cpp's tools on Linux)");
        }
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).directory(library.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().remove("GGML_BACKEND_PATH");
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(tool + " did not finish in ten minutes; its output is in " + log);
        }
        return process.exitValue();
    }
}
