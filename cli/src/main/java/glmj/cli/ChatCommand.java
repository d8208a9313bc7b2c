package glmj.cli;

import glmj.engine.Model;
import glmj.generate.Session;
import glmj.chat.ChatSession;
import glmj.generate.ContextFullException;
import glmj.generate.Generation;
import glmj.generate.Generator;
import glmj.generate.StopReason;
import glmj.sampler.SamplerSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "chat",
        mixinStandardHelpOptions = true,
        description = {
            "Chats with a model in an interactive REPL, in GLM-5's conversation format.",
            "Answers stream as they are generated; up/down arrows recall history; end a line with \\ to go on, or wrap a block in lines of \"\"\"; Ctrl-C stops an answer, Ctrl-D or /quit leaves. Type /help for the commands."
        },
        footer = {"", "Examples:",
            "  glmj chat -m GLM-5-UD-Q2_K_XL-00001-of-00006.gguf",
            "  glmj chat --system 'Answer in one sentence.' --no-think --temp 0.6"})
final class ChatCommand implements Callable<Integer> {

    static final String HELP = """
            /help                 this list
            /system TEXT          set the system message (and start over); /system alone shows it
            /think on|off         let the model reason before answering, or not
            /set NAME VALUE       n (tokens per answer, -1 no limit), temp, top-k, top-p, min-p, repeat-penalty,
                                  frequency-penalty, presence-penalty, repeat-last-n, seed
            /reset                start the conversation over
            /stats                context use and the last answer's speeds
            /quit                 leave (also /exit or Ctrl-D)""";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions samplingOptions;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message that opens the conversation.")
    String system = "";

    @Option(names = "--no-think", description = "Answer without reasoning first (like /think off).")
    boolean noThinking;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", description = "Tokens per answer at most; -1 until the model stops (default: ${DEFAULT-VALUE}).")
    int maxTokens = -1;

    @Override
    public Integer call() throws IOException {
        try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
            return converse(terminal);
        }
    }

    int converse(Terminal terminal) throws IOException {
        PrintWriter out = terminal.writer();
        PromptSetting.N_PREDICT.checkFlag(maxTokens);
        SamplerSettings settings = samplingOptions.settings();
        try (Model loaded = modelOptions.load(out); Session context = loaded.newSession()) {
            Generator generator = new Generator(context, loaded.tokenizer(), true);
            ChatSession session = new ChatSession(generator, loaded.chatFormat(), settings);
            session.setSystem(system);
            session.setThinking(!noThinking);
            session.setMaxTokens(maxTokens);
            LineReader reader = LineReaderBuilder.builder()
                    .terminal(terminal)
                    .appName("glmj")
                    .parser(multiLineParser())
                    .variable(LineReader.HISTORY_FILE, Path.of(System.getProperty("user.home"), ".glmj_history"))
                    .build();
            out.printf("glmj chat with %s (%d-token context). /help for commands, Ctrl-D to leave.%n",
                    loaded.path().getFileName(), context.contextSize());
            out.flush();
            while (true) {
                String line;
                try {
                    line = readInput(reader);
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    return 0;
                }
                if (line.isBlank()) {
                    continue;
                }
                if (line.startsWith("/")) {
                    if (!command(line.strip(), session, out)) {
                        return 0;
                    }
                    continue;
                }
                answer(line, session, terminal, out);
            }
        }
    }

    private static DefaultParser multiLineParser() {
        DefaultParser parser = new DefaultParser();
        parser.setEofOnEscapedNewLine(true);
        parser.setEofOnUnclosedQuote(false);
        parser.setEscapeChars(new char[0]);
        return parser;
    }

    /** One input: a line, lines joined by a trailing backslash, or a block between lines of three double quotes. */
    private static String readInput(LineReader reader) {
        String line = reader.readLine("> ");
        if (line.strip().equals("\"\"\"")) {
            StringBuilder block = new StringBuilder();
            for (String next = reader.readLine(". "); !next.strip().equals("\"\"\""); next = reader.readLine(". ")) {
                block.append(block.isEmpty() ? "" : "\n").append(next);
            }
            return block.toString();
        }
        StringBuilder joined = new StringBuilder();
        while (line.endsWith("\\")) {
            joined.append(line, 0, line.length() - 1).append('\n');
            line = reader.readLine(". ");
        }
        return joined.append(line).toString();
    }

    private void answer(String question, ChatSession session, Terminal terminal, PrintWriter out) {
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> session.generator().cancel());
        try {
            Generation generation = session.reply(question, piece -> {
                out.print(piece);
                out.flush();
            });
            out.println();
            if (generation.stopReason() == StopReason.CANCELLED) {
                out.println("[stopped]");
            } else if (generation.stopReason() == StopReason.CONTEXT_FULL) {
                out.println("[the context is full: /reset to start over, or restart with a larger -c]");
            }
        } catch (ContextFullException e) {
            out.println("glmj: " + e.getMessage());
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
            out.flush();
        }
    }

    /** Runs a slash command; false when the user asked to leave. */
    private boolean command(String line, ChatSession session, PrintWriter out) {
        String[] words = line.split("\\s+", 3);
        String argument = line.contains(" ") ? line.substring(line.indexOf(' ') + 1).strip() : "";
        switch (words[0]) {
            case "/quit", "/exit" -> {
                return false;
            }
            case "/help" -> out.println(HELP);
            case "/reset" -> {
                session.reset();
                out.println("[conversation cleared]");
            }
            case "/system" -> {
                if (argument.isEmpty()) {
                    out.println(session.system().isEmpty() ? "[no system message]" : session.system());
                } else {
                    session.setSystem(argument);
                    session.reset();
                    out.println("[system message set; conversation cleared]");
                }
            }
            case "/think" -> {
                if (!argument.equals("on") && !argument.equals("off")) {
                    out.println("usage: /think on|off (now " + (session.thinking() ? "on" : "off") + ")");
                } else {
                    session.setThinking(argument.equals("on"));
                    out.println("[thinking " + argument + "]");
                }
            }
            case "/set" -> set(words, session, out);
            case "/stats" -> stats(session, out);
            default -> out.println("unknown command " + words[0] + "; /help lists them");
        }
        out.flush();
        return true;
    }

    private static void set(String[] words, ChatSession session, PrintWriter out) {
        String names = String.join(", ", PromptSetting.setNames());
        if (words.length < 3) {
            out.println("usage: /set NAME VALUE  (" + names + ")");
            return;
        }
        PromptSetting setting = PromptSetting.named(words[1], false);
        if (setting == null) {
            out.println("unknown setting " + words[1] + " (" + names + ")");
            return;
        }
        Number value = setting.parse(words[2]);
        if (value == null) {
            out.println("not a valid value for " + words[1] + ": " + words[2] + " (it must be " + setting.expected() + ")");
            return;
        }
        if (setting.isSampling()) {
            session.setSettings(setting.apply(session.settings(), value));
        } else {
            session.setMaxTokens(value.intValue());
        }
        out.println("[" + words[1] + " = " + words[2] + "]");
    }

    private static void stats(ChatSession session, PrintWriter out) {
        out.printf("context: %d tokens; turns: %d; thinking %s; temp %.2f%n", session.contextTokens(),
                session.messages().size() / 2, session.thinking() ? "on" : "off", session.settings().temperature());
        Generation last = session.lastGeneration();
        if (last != null) {
            out.printf("last answer: prompt %d tokens at %.2f tokens/s, %d tokens generated at %.2f tokens/s (%s)%n",
                    last.promptTokens(), last.promptTokensPerSecond(), last.generatedTokens(), last.generationTokensPerSecond(),
                    last.stopReason().name().toLowerCase().replace('_', ' '));
        }
    }
}
