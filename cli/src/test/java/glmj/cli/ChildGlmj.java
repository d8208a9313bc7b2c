package glmj.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * glmj as a child JVM on the tests' class path, for what only a real process shows: its exit code when killed or when
 * its real stdout fails, and its files after a kill -9.
 */
final class ChildGlmj {
    /** What the JVM itself prints first on stderr whenever the Vector API module is added (the launcher hides it). */
    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    private ChildGlmj() {}

    /** The command line that runs {@code glmj args}. */
    static ProcessBuilder command(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m"));
        String llamaLibrary = System.getProperty("glmj.llama.lib");
        if (llamaLibrary != null) {
            command.add("-Dglmj.llama.lib=" + llamaLibrary);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "glmj.cli.Main"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /** The lines a finished process printed on stderr, but the JVM's incubator warning. */
    static List<String> errors(Process process) throws IOException {
        return new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(line -> !line.equals(INCUBATOR_WARNING)).toList();
    }
}
