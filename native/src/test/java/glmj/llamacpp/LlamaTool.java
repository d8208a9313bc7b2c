package glmj.llamacpp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of llama.cpp's tools that scripts/install-llama builds into {@code bin/} beside the libraries. A tool
 * runs from the library folder, where ggml finds its CPU backend, with absolute paths for its files.
 */
final class LlamaTool {

    private LlamaTool() {
    }

    /**
     * Runs {@code tool} with {@code arguments}, its output going to {@code log}; a tool that is missing, fails or
     * takes more than ten minutes fails the test with the end of its output.
     */
    static void run(String tool, Path log, String... arguments) throws IOException, InterruptedException {
        Path library = LlamaLibrary.configuredDirectory().toAbsolutePath().normalize();
        Path executable = library.resolveSibling("bin").resolve(tool);
        if (!Files.isExecutable(executable)) {
            throw new AssertionError(executable + " is missing: run scripts/install-llama (it builds llama.cpp's tools on Linux)");
        }
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(library.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(tool + " did not finish in ten minutes; its output is in " + log);
        }
        if (process.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log);
            throw new AssertionError(tool + " " + String.join(" ", arguments) + " exited with " + process.exitValue() + ":\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
        }
    }
}
