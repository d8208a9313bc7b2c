package glmj.cli;

import glmj.engine.BackendUnavailableException;
import glmj.engine.UnsupportedModelException;
import glmj.generate.CacheTooLargeException;
import glmj.generate.ContextFullException;
import glmj.gguf.GGUFFormatException;
import glmj.hf.CheckpointFormatException;
import glmj.quant.QuantizeException;
import glmj.llamacpp.LlamaLibrary;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/** The {@code glmj} command: one entry point whose subcommands run, inspect, measure and quantize GLM-5 GGUF models. */
@Command(
        name = "glmj",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = {
            "Runs quantized GGUF builds of GLM-5 (llama.cpp architecture glm-dsa) on the CPU.",
            "Without a model file, commands use the tiny GLM-5 built into glmj."
        },
        subcommands = {ChatCommand.class, RunCommand.class, BatchCommand.class, BenchCommand.class, InfoCommand.class, QualityCommand.class, QuantizeCommand.class, ImatrixCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Run 'glmj help COMMAND' for a command's options and examples."})
public final class Main implements Runnable {

    /** Exit code for what the user can fix: a missing file, a malformed model, a wrong option, output that cannot be written. */
    static final int EXIT_BAD_INPUT = 2;
    /** Exit code for a bug in glmj itself. */
    static final int EXIT_INTERNAL_ERROR = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(
            names = "--llama-lib",
            paramLabel = "DIR",
            scope = ScopeType.INHERIT,
            description = "Folder of llama.cpp v0.5.0's libraries (default: $GLMJ_LLAMA_LIB, else .deps/llama-v0.5.0/lib).")
    void llamaLibrary(Path directory) {
        System.setProperty("glmj.llama.lib", directory.toString());
    }

    @CommandLine.Option(
            names = {"-v", "--verbose"},
            scope = ScopeType.INHERIT,
            description = "Show llama.cpp's log (by default only its errors); run also says how long loading took and when the"
                    + " first token came.")
    void verbose(boolean on) {
        verbose = on;
        LlamaLibrary.setLogSink(on ? Main::llamaLog : Main::llamaErrors);
    }

    /** Whether -v was given. */
    boolean verbose;

    public static void main(String[] args) {
        LauncherStderr.restore();
        PrintWriter out = new CheckedOutput(new FileOutputStream(FileDescriptor.out), System.out.charset());
        System.exit(execute(args, out, new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code; tests call this directly. */
    static int execute(String[] args, PrintWriter out, PrintWriter err) {
        LlamaLibrary.setLogSink(Main::llamaErrors);
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExitCodeExceptionMapper(exception -> EXIT_BAD_INPUT);
        commandLine.setParameterExceptionHandler((exception, arguments) -> {
            // one line, as every error: where to read more goes on it
            err.println("glmj: " + exception.getMessage() + " (see 'glmj " + commandPath(exception.getCommandLine()) + "--help')");
            return EXIT_BAD_INPUT;
        });
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            String problem = describe(exception);
            if (problem == null) {
                err.println("glmj: internal error, please report it with the command line you ran:");
                exception.printStackTrace(err);
                return EXIT_INTERNAL_ERROR;
            }
            err.println("glmj: " + problem);
            return EXIT_BAD_INPUT;
        });
        int exitCode = commandLine.execute(args);
        if (exitCode == 0) {
            // a command that does not check its output as it goes: its output is lost all the same
            try {
                CheckedOutput.check(out);
            } catch (UncheckedIOException lost) {
                err.println("glmj: " + lost.getCause().getMessage());
                return EXIT_BAD_INPUT;
            }
        }
        return exitCode;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** ggml's log level for errors. */
    private static final int LLAMA_LOG_ERROR = 4;

    private static void llamaLog(int level, String line) {
        System.err.println("llama.cpp: " + line);
    }

    private static void llamaErrors(int level, String line) {
        if (level >= LLAMA_LOG_ERROR) {
            llamaLog(level, line);
        }
    }

    private static String commandPath(CommandLine commandLine) {
        String path = commandLine.getCommandSpec().qualifiedName(" ");
        return path.equals("glmj") ? "" : path.substring("glmj ".length()) + " ";
    }

    /**
     * One line that says what went wrong and where, for the failures a user can cause and fix;
     * {@code null} for anything else, which is a bug of ours.
     */
    static String describe(Exception exception) {
        Throwable cause = exception instanceof UncheckedIOException unchecked ? unchecked.getCause() : exception;
        return switch (cause) {
            case NoSuchFileException missing -> missing.getFile() + ": no such file";
            case AccessDeniedException denied -> denied.getFile() + ": permission denied";
            case GGUFFormatException malformed -> malformed.getMessage();
            case CheckpointFormatException malformed -> malformed.getMessage();
            case IOException io -> io.getMessage() != null ? io.getMessage() : io.toString();
            case UserInputException input -> input.getMessage();
            case QuantizeException quantize -> quantize.getMessage();
            case BackendUnavailableException backend -> backend.getMessage();
            case UnsupportedModelException unsupported -> unsupported.getMessage();
            case ContextFullException full -> full.getMessage();
            case CacheTooLargeException cache -> cache.getMessage();
            default -> null;
        };
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"glmj " + (version != null ? version : "development build"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
