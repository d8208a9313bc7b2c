package glmj.quality;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp's own tools (llama-perplexity, llama-quantize), built by scripts/install-llama beside its libraries, and the
 * corpus scripts/fetch-corpus fetches. Missing ones fail the test under {@code -Dglmj.require.llama=true} (as
 * scripts/test runs) and skip it otherwise.
 */
final class LlamaTools {
    private static final long TIMEOUT_MINUTES = 10;

    private LlamaTools() {
    }

    /** What a tool printed (stdout and stderr together) and its exit code. */
    record Output(int exitCode, String text) {
        Output succeeded() {
            if (exitCode != 0) {
                throw new AssertionError("exit code " + exitCode + ":\n" + text);
            }
            return this;
        }
    }

    private static Path libraries() {
        return Path.of(System.getProperty("glmj.llama.lib", ".deps/llama-v0.5.0/lib")).toAbsolutePath();
    }

    private static void require(boolean present, String what) {
        if (Boolean.getBoolean("glmj.require.llama")) {
            if (!present) {
                throw new AssertionError(what);
            }
        } else {
            Assumptions.assumeTrue(present, what);
        }
    }

    /** The tool {@code name}, checked to exist. */
    static Path tool(String name) {
        Path tool = libraries().resolveSibling("bin").resolve(name);
        require(Files.isExecutable(tool), tool + " is missing: run scripts/install-llama");
        return tool;
    }

    /** Moby-Dick as scripts/fetch-corpus puts it. */
    static Path corpus() {
        Path corpus = Path.of(System.getProperty("glmj.corpus", ".deps/corpus/moby-dick.txt"));
        require(Files.isRegularFile(corpus), corpus + " is missing: run scripts/fetch-corpus");
        return corpus;
    }

    /** The first {@code bytes} bytes of the corpus, cut at a line's end, as a file in {@code directory}. */
    static Path corpusSlice(Path directory, int bytes) throws IOException {
        byte[] text = Files.readAllBytes(corpus());
        int end = Math.min(bytes, text.length);
        while (end < text.length && text[end - 1] != '\n') {
            end++;
        }
        return Files.write(directory.resolve("corpus-" + bytes + ".txt"), Arrays.copyOf(text, end));
    }

    /**
     * Runs a tool from its libraries' folder, where ggml finds its CPU backends, with {@code GGML_BACKEND_PATH} unset.
     */
    static Output run(String name, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(tool(name).toString());
        command.addAll(List.of(arguments));
        Path log = Files.createTempFile("glmj-" + name, ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(libraries().toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().remove("GGML_BACKEND_PATH");
            Process process = builder.start();
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError(name + " did not finish in " + TIMEOUT_MINUTES + " minutes: " + command);
            }
            return new Output(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
