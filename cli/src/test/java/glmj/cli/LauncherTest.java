package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher, {@code ./glmj}, in a copy of the project's scripts whose {@code cli/target/glmj.jar} runs the classes
 * under test, and without {@code .deps} (the shared llama.cpp install is never touched).
 */
class LauncherTest {
    private static final Path PROJECT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path root;

    private Path jar;

    /** What a finished launch printed. */
    record Launch(int exitCode, String out, String err, long millis) {}

    @BeforeEach
    void copyTheLauncher() throws IOException {
        Files.createDirectories(root.resolve("scripts"));
        for (String file : List.of("glmj", "scripts/jdk.sh", "scripts/install-llama")) {
            Files.copy(PROJECT.resolve(file), root.resolve(file));
        }
        jar = root.resolve("cli/target/glmj.jar");
        Files.createDirectories(jar.getParent());
        // a jar of nothing but a manifest naming the classes under test and their dependencies
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.put(Attributes.Name.MAIN_CLASS, Main.class.getName());
        main.put(new Attributes.Name("Enable-Native-Access"), "ALL-UNNAMED");
        main.put(Attributes.Name.CLASS_PATH, String.join(" ", Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(entry -> Path.of(entry).toUri().toString()).toList()));
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream unused = new JarOutputStream(out, manifest)) {
            // the manifest is all
        }
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
    }

    private Launch launch(Map<String, String> environment, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", root.resolve("glmj").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().keySet().removeAll(List.of("GLMJ_LLAMA_LIB", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS"));
        builder.environment().putAll(environment);
        Path out = Files.createTempFile(root, "out", ".txt");
        long start = System.nanoTime();
        Process process = builder.redirectOutput(out.toFile()).start();
        // stderr through a pipe read to its end: the launcher's filter of the JVM's stderr holds the pipe open until it
        // has written all, which may be after the JVM has exited
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = process.getErrorStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the launcher did not finish");
        return new Launch(process.exitValue(), Files.readString(out), err.get(10, TimeUnit.SECONDS), (System.nanoTime() - start) / 1_000_000);
    }

    /** With the project's llama.cpp, as a user who installed it. */
    private Map<String, String> installed() {
        return Map.of("GLMJ_LLAMA_LIB", System.getProperty("glmj.llama.lib", PROJECT.resolve(".deps/llama-v0.5.0/lib").toString()));
    }

    @Test
    void errorsAreOneLineWithoutTheJvmsIncubatorWarning() throws Exception {
        Launch missing = launch(installed(), "info", "/no/such/model.gguf");
        assertEquals(2, missing.exitCode());
        assertEquals("glmj: /no/such/model.gguf: no such file\n", missing.err());
        Launch version = launch(installed(), "--version");
        assertEquals(0, version.exitCode(), version.err());
        assertTrue(version.out().startsWith("glmj "), version.out());
        assertEquals("", version.err());
        // what the JVM itself says about a real problem still shows, with its exit code
        Files.writeString(jar, "not a jar");
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now()));
        Launch corrupt = launch(installed(), "--version");
        assertNotEquals(0, corrupt.exitCode());
        assertEquals("Error: Invalid or corrupt jarfile " + jar + "\n", corrupt.err());
    }

    @Test
    void glmjWritesToTheRealStderrNotThroughTheFilter() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs /proc");
        Path err = root.resolve("stderr.txt");
        // run reads its prompt from stdin, which stays open, so the process waits there
        ProcessBuilder builder = new ProcessBuilder("bash", root.resolve("glmj").toString(), "run", "-n", "2", "--temp", "0", "-c", "64");
        builder.environment().putAll(installed());
        Process process = builder.redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        process.getOutputStream().write("Hello".getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
        Path stderrOfJava = Path.of("/proc", Long.toString(process.pid()), "fd", "2");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!err.equals(target(stderrOfJava)) && System.nanoTime() < deadline && process.isAlive()) {
            Thread.sleep(20);
        }
        assertEquals(err, target(stderrOfJava), "the JVM's stderr, once glmj runs");
        process.getOutputStream().close();
        assertEquals(0, process.waitFor());
        assertTrue(Files.readString(err).startsWith("prompt: "), Files.readString(err));
    }

    private static Path target(Path link) {
        try {
            return Files.readSymbolicLink(link);
        } catch (IOException e) {
            return null;
        }
    }

    /** A stand-in for mvn on the PATH: prints what Maven's first build prints, then succeeds (touching the jar) or fails. */
    private Map<String, String> fakeMaven(boolean succeeds) throws IOException {
        Path bin = Files.createDirectories(root.resolve("fake-bin"));
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\nprintf '\\033[0m\\033[0mWARNING: Using incubator modules: jdk.incubator.vector\\n'\n"
                + "printf 'up to date: tiny-glm-dsa.gguf\\n\\033[0m\\033[0m'\n"
                + (succeeds ? "touch cli/target/glmj.jar\nexit 0\n" : "echo '[ERROR] COMPILATION ERROR'\nexit 1\n"));
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        return Map.of("PATH", bin + File.pathSeparator + System.getenv("PATH"), "GLMJ_LLAMA_LIB", installed().get("GLMJ_LLAMA_LIB"));
    }

    @Test
    void rebuildsOnlyWhenSourcesChangedAndQuietly() throws Exception {
        Path generated = root.resolve("cli/target/generated-sources/annotations/glmj/cli/Generated.java");
        Files.createDirectories(generated.getParent());
        Files.writeString(generated, "class Generated {}");
        Launch afterGeneration = launch(fakeMaven(true), "--version");
        assertEquals("", afterGeneration.err(), "sources generated under target/ are not a reason to rebuild");

        Path source = root.resolve("runtime/src/main/java/glmj/Changed.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, "class Changed {}");
        Launch rebuilt = launch(fakeMaven(true), "--version");
        assertEquals(0, rebuilt.exitCode(), rebuilt.err());
        assertEquals("glmj: building (first use or sources changed; a minute or two)...\n", rebuilt.err(),
                "Maven's output (raw ANSI codes, the JVM's warning) stays in the build log");
        assertTrue(rebuilt.out().startsWith("glmj "), rebuilt.out());

        Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(60)));
        Launch failed = launch(fakeMaven(false), "--version");
        assertEquals(2, failed.exitCode());
        assertTrue(failed.err().contains("[ERROR] COMPILATION ERROR"), failed.err());
        assertTrue(failed.err().strip().endsWith("glmj: the build failed (the output above is in " + root.resolve("cli/target/build.log")
                + ")"), failed.err());
    }

    @Test
    void anUnreachableNpmRegistryIsTriedOnceBrieflyAndRemembered() throws Exception {
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v npm").start().waitFor() == 0, "needs npm");
        Map<String, String> offline = Map.of("npm_config_registry", "http://127.0.0.1:9/",
                "npm_config_cache", root.resolve("npm-cache").toString());
        Launch version = launch(offline, "--version");
        assertEquals(0, version.exitCode(), version.err());
        assertEquals("", version.err(), "printing the version needs no llama.cpp");
        Launch help = launch(offline, "run", "--help");
        assertFalse(help.err().contains("install-llama:"), help.err());

        Launch first = launch(offline, "run", "-p", "Hello", "-n", "2", "--temp", "0", "-c", "64");
        assertEquals(0, first.exitCode(), first.err());
        assertFalse(first.out().isBlank(), "answered all the same");
        List<String> lines = first.err().lines().toList();
        assertEquals("install-llama: fetching llama.cpp v0.5.0 (node-llama-cpp 3.22.1) from npm", lines.get(0));
        assertEquals("install-llama: could not fetch llama.cpp v0.5.0 from http://127.0.0.1:9/; glmj runs on its own, slower "
                + "kernels until 'scripts/install-llama' succeeds (npm's log: " + root.resolve(".deps/install-llama.failed") + ")",
                lines.get(1));
        assertKernelsNamedOnce(lines.subList(2, lines.size()));
        assertTrue(Files.isRegularFile(root.resolve(".deps/install-llama.failed")));

        Launch second = launch(offline, "run", "-p", "Hello", "-n", "2", "--temp", "0", "-c", "64");
        assertEquals(0, second.exitCode(), second.err());
        assertFalse(second.err().contains("install-llama:"), "a failure in the last day is not tried again: " + second.err());
        assertKernelsNamedOnce(second.err().lines().toList());
        // npm's retries used to add more than a minute (72 s); without them the failed fetch takes a few seconds
        assertTrue(first.millis() - second.millis() < 30_000, "the failed fetch took " + (first.millis() - second.millis()) + " ms");
    }

    /** One line says which kernels run and why; then the speeds. */
    private static void assertKernelsNamedOnce(List<String> lines) {
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("glmj: running on glmj's own kernels (vector), slower than ggml's, which did not load: "
                + "no llama.cpp libraries: "), lines.get(0));
        assertTrue(lines.get(1).startsWith("prompt: "), lines.get(1));
    }
}
