package glmj.llamacpp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * The llama.cpp v0.5.0 shared libraries, loaded once per JVM. The folder is {@code -Dglmj.llama.lib}, else
 * {@code $GLMJ_LLAMA_LIB}, else {@code .deps/llama-v0.5.0/lib} under the working directory, where
 * {@code scripts/install-llama} puts them. Loading registers ggml's CPU backends from that folder before
 * {@code llama_backend_init}, because ggml otherwise looks beside the {@code java} executable and silently finds none.
 */
public final class LlamaLibrary {
    /** The ggml version inside llama.cpp v0.5.0, the only one glmj's numbers are checked against. */
    public static final String GGML_VERSION = "0.25.1";

    private static final String HOW_TO_INSTALL =
            "run scripts/install-llama, or point --llama-lib DIR / GLMJ_LLAMA_LIB at llama.cpp v0.5.0's libraries";

    /** ggml_log_level: 0 none, 1 debug, 2 info, 3 warn, 4 error, 5 cont (continues the previous message). */
    private static final int LOG_WARN = 3;
    private static final int LOG_CONT = 5;

    private static LlamaLibrary loaded;
    private static volatile BiConsumer<Integer, String> logSink = LlamaLibrary::warningsToStderr;
    private static int lastLogLevel;
    /** Threads whose llama.cpp log is dropped for now (see {@link #quiet}). */
    private static final ThreadLocal<Boolean> QUIET = ThreadLocal.withInitial(() -> false);

    private final Path directory;
    private final SymbolLookup symbols;

    private LlamaLibrary(Path directory, SymbolLookup symbols) {
        this.directory = directory;
        this.symbols = symbols;
    }

    /** Loads the libraries from the configured folder, once. */
    public static synchronized LlamaLibrary load() {
        return loaded != null ? loaded : load(configuredDirectory());
    }

    /** Loads the libraries from {@code directory}; a JVM can hold only one llama.cpp, so later calls must name the same folder. */
    public static synchronized LlamaLibrary load(Path directory) {
        Path folder = directory.toAbsolutePath().normalize();
        if (loaded != null) {
            if (!loaded.directory.equals(folder)) {
                throw new LlamaLibraryException("llama.cpp is already loaded from " + loaded.directory + "; cannot load it again from " + folder);
            }
            return loaded;
        }
        LlamaLibrary library = new LlamaLibrary(folder, open(folder));
        loaded = library;
        try {
            library.initialize();
        } catch (RuntimeException e) {
            loaded = null;
            throw e;
        }
        return library;
    }

    public Path directory() {
        return directory;
    }

    /**
     * Sends llama.cpp's and ggml's log lines (level, text without the trailing newline) to {@code sink}; by default
     * warnings and errors go to stderr and the rest is dropped.
     */
    public static void setLogSink(BiConsumer<Integer, String> sink) {
        logSink = sink;
    }

    /**
     * Drops llama.cpp's log lines from the calling thread while {@code on}: a decode glmj stops through its abort
     * callback is logged by llama.cpp as errors, which to the user are none.
     */
    static void quiet(boolean on) {
        QUIET.set(on);
    }

    static Path configuredDirectory() {
        String property = System.getProperty("glmj.llama.lib");
        String environment = System.getenv("GLMJ_LLAMA_LIB");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        return environment != null && !environment.isBlank() ? Path.of(environment) : Path.of(".deps", "llama-v0.5.0", "lib");
    }

    MemorySegment find(String symbol) {
        return symbols.find(symbol).orElseThrow(() -> new LlamaLibraryException(
                "llama.cpp in " + directory + " has no function " + symbol + "; " + HOW_TO_INSTALL));
    }

    private static SymbolLookup open(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new LlamaLibraryException("no llama.cpp libraries: " + folder + " is not a folder; " + HOW_TO_INSTALL);
        }
        Path base = library(folder, "libggml-base");
        Path ggml = library(folder, "libggml.");
        Path llama = library(folder, "libllama.");
        try {
            return SymbolLookup.libraryLookup(llama, Arena.global())
                    .or(SymbolLookup.libraryLookup(ggml, Arena.global()))
                    .or(SymbolLookup.libraryLookup(base, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new LlamaLibraryException("cannot load llama.cpp from " + folder + ": " + e.getMessage(), e);
        }
    }

    private static Path library(Path folder, String prefix) {
        try (Stream<Path> files = Files.list(folder)) {
            Optional<Path> found = files
                    .filter(file -> {
                        String name = file.getFileName().toString();
                        return name.startsWith(prefix) && (name.endsWith(".so") || name.endsWith(".dylib"));
                    })
                    .sorted()
                    .findFirst();
            return found.orElseThrow(() -> new LlamaLibraryException(
                    "no " + prefix.replaceAll("\\.$", "") + " library in " + folder + "; " + HOW_TO_INSTALL));
        } catch (IOException e) {
            throw new LlamaLibraryException("cannot list " + folder + ": " + e.getMessage(), e);
        }
    }

    private void initialize() {
        String version = Ggml.ggml_version().getString(0);
        if (!GGML_VERSION.equals(version)) {
            throw new LlamaLibraryException("llama.cpp in " + directory + " has ggml " + version
                    + ", but glmj is checked against llama.cpp v0.5.0 (ggml " + GGML_VERSION + "); " + HOW_TO_INSTALL);
        }
        MemorySegment logger = Ggml.ggml_log_callback.allocate(LlamaLibrary::log, Arena.global());
        Ggml.ggml_log_set(logger, MemorySegment.NULL);
        Llama.llama_log_set(logger, MemorySegment.NULL);
        try (Arena arena = Arena.ofConfined()) {
            Ggml.ggml_backend_load_all_from_path(arena.allocateFrom(directory.toString()));
        }
        if (Ggml.ggml_backend_reg_count() < 1) {
            throw new LlamaLibraryException("llama.cpp in " + directory + " registered no CPU backend (no libggml-cpu-* it could load)");
        }
        Llama.llama_backend_init();
    }

    private static void log(int level, MemorySegment text, MemorySegment userData) {
        int effective = level == LOG_CONT ? lastLogLevel : level;
        lastLogLevel = effective;
        String line = text.reinterpret(Long.MAX_VALUE).getString(0).stripTrailing();
        if (!line.isEmpty() && !QUIET.get()) {
            logSink.accept(effective, line);
        }
    }

    private static void warningsToStderr(int level, String line) {
        if (level >= LOG_WARN) {
            System.err.println("llama.cpp: " + line);
        }
    }

    /** A downcall handle for {@code name}, loading the libraries on first use. */
    static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return Linker.nativeLinker().downcallHandle(load().find(name), descriptor);
    }
}
