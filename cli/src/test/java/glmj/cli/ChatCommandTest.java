package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.chat.ChatSession;
import glmj.engine.Model;
import glmj.engine.ModelOptions;
import glmj.engine.Models;
import glmj.generate.Generation;
import glmj.generate.Generator;
import glmj.generate.Session;
import glmj.generate.StopReason;
import glmj.sampler.SamplerSettings;
import glmj.testdata.BenchGlmDsa;
import glmj.testdata.TestModels;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ChatCommandTest {
    /** A question of about 3,500 tokens, which the bench model at small scale reads in seconds, in batches of 2048. */
    private static final String LONG_QUESTION = IntStream.range(0, 250)
            .mapToObj(i -> "Sentence " + i + ": the river carries stones past the mill and under the old bridge.")
            .collect(Collectors.joining(" "));

    /** Runs the REPL over {@code input} as typed lines and returns what it printed. */
    private static String chat(Path home, String input, String... options) throws Exception {
        String userHome = System.getProperty("user.home");
        System.setProperty("user.home", home.toString());
        try {
            CommandLine commandLine = new CommandLine(new ChatCommand());
            commandLine.parseArgs(options);
            ChatCommand command = commandLine.getCommand();
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            // a dumb terminal reads its input only when the line reader asks, so the end of the input cannot overtake a line
            // (a terminal built over streams pumps its input on a thread of its own and drops what is unread when it ends)
            ByteArrayInputStream keyboard = new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8));
            try (Terminal terminal = new DumbTerminal("glmj-test", Terminal.TYPE_DUMB, keyboard, printed, StandardCharsets.UTF_8)) {
                assertEquals(0, command.converse(terminal));
            }
            return printed.toString(StandardCharsets.UTF_8);
        } finally {
            System.setProperty("user.home", userHome);
        }
    }

    @Test
    void answersRunsCommandsAndKeepsTheConversationInContext(@TempDir Path home) throws Exception {
        String printed = chat(home, """
                /help
                Hello there
                /stats
                /think off
                /set n 3
                second \\
                line
                /stats
                /set temp hot
                /set temp -1
                /set top-p 2
                /set n -7
                /nonsense
                /quit
                """, "-c", "512", "--temp", "0", "-n", "6");
        assertTrue(printed.contains("/think on|off"), printed);
        assertTrue(printed.contains("turns: 1; thinking on"), printed);
        assertTrue(printed.contains("6 tokens generated"), printed);
        assertTrue(printed.contains("[thinking off]"), printed);
        assertTrue(printed.contains("turns: 2; thinking off"), printed);
        assertTrue(printed.contains("3 tokens generated"), printed);
        assertTrue(printed.contains("not a valid value for temp: hot (it must be a number, 0 or more)"), printed);
        assertTrue(printed.contains("not a valid value for temp: -1 (it must be a number, 0 or more)"), printed);
        assertTrue(printed.contains("not a valid value for top-p: 2 (it must be a number, from 0 to 1)"), printed);
        assertTrue(printed.contains("not a valid value for n: -7 (it must be an integer, -1 or more)"), printed);
        assertTrue(printed.contains("unknown command /nonsense"), printed);
    }

    @Test
    void theSecondTurnReusesTheFirstFromTheContext(@TempDir Path home) throws Exception {
        String printed = chat(home, "Hello there\nAnd then?\n/stats\n/quit\n", "-c", "512", "--temp", "0", "-n", "4");
        // the first turn fed its whole prompt; the second feeds only what follows the part still in the context
        int secondPrompt = Integer.parseInt(printed.replaceAll("(?s).*last answer: prompt (\\d+) tokens.*", "$1"));
        assertTrue(secondPrompt < 15, printed);
    }

    /**
     * Ctrl-C while a pasted question is being read, typed into an xterm: the reading stops within the work under way
     * (measured as the CPU time the model's threads spend after the key, which a loaded machine does not stretch as it
     * does wall time: a layer of a 2048-token batch of this model takes seconds of it), its progress is erased, the
     * question is left out of the conversation and the context, and the next question is answered.
     */
    @Test
    void ctrlCStopsAPromptBeingReadWithinTheWorkUnderWay(@TempDir Path home) throws Exception {
        Path model = TestModels.benchModel(BenchGlmDsa.Scale.SMALL);
        try (LiveChat chat = LiveChat.start(home, "-m", model.toString(), "-c", "8192", "-b", "2048", "-t", "2", "--temp", "0", "-n", "4")) {
            chat.awaitPrinted("Ctrl-D to leave", 120);
            chat.paste(LONG_QUESTION);
            int progressAt = chat.awaitPrinted(" tokens (", 120);
            long cpuBefore = chat.computingCpuNanos();
            long keyAt = System.nanoTime();
            chat.type("\u0003");
            int stoppedAt = chat.awaitPrinted("[stopped before the answer; the question is left out of the conversation]", 60);
            long millis = (System.nanoTime() - keyAt) / 1_000_000;
            double cpuSeconds = (chat.computingCpuNanos() - cpuBefore) / 1e9;
            System.out.printf("chat: [stopped] %d ms after Ctrl-C; the model's threads spent %.3f s of CPU after the key%n", millis, cpuSeconds);
            assertTrue(cpuSeconds < 0.5, "the model's threads went on for " + cpuSeconds + " s of CPU after the key");
            String printed = chat.printed();
            assertTrue(printed.substring(progressAt, stoppedAt).contains("\r" + " ".repeat(119) + "\r"), "the progress is erased");
            chat.type("/stats\r");
            chat.awaitPrinted("context: 0 tokens; turns: 0", 30);
            chat.type("Hello\r");
            chat.type("/stats\r");
            chat.awaitPrinted("turns: 1;", 120);
            chat.type("/quit\r");
            assertEquals(0, chat.exitCode());
        }
    }

    /** Piped in and out, a long question shows nothing of its progress: the output has the answer and no redrawn line. */
    @Test
    void aLongQuestionsProgressDoesNotGoIntoPipedOutput(@TempDir Path dir) throws Exception {
        // about 3,000 tokens, seconds of reading for the built-in model, which holds 4,096
        String question = LONG_QUESTION.substring(0, LONG_QUESTION.indexOf("Sentence 160:"));
        Path input = Files.writeString(dir.resolve("questions.txt"), question + "\n/stats\n/quit\n");
        Process process = ChildGlmj.command("chat", "-c", "4096", "--temp", "0", "-n", "4")
                .redirectInput(input.toFile()).redirectErrorStream(true).start();
        String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), printed);
        assertTrue(printed.contains("turns: 1;"), printed);
        assertFalse(printed.contains("\r"), printed);
    }

    /** Ctrl-C while the answer streams: it stops there, and the question and the answer so far stay in the conversation. */
    @Test
    void ctrlCStopsAnAnswerAndKeepsItsBeginning(@TempDir Path home) throws Exception {
        try (LiveChat chat = LiveChat.start(home, "-c", "4096", "--temp", "0", "--no-think")) {
            chat.awaitPrinted("Ctrl-D to leave", 60);
            chat.type("Tell me a long story\r");
            // the model's answer streams until the context is full: the key comes once it has begun
            int question = chat.awaitPrinted("Tell me a long story", 30);
            chat.awaitPrintedAfter(question + 200, 60);
            chat.type("\u0003");
            chat.awaitPrinted("[stopped]", 60);
            chat.type("/stats\r");
            chat.awaitPrinted("turns: 1;", 30);
            assertFalse(chat.printed().contains("context is full"), chat.printed());
            chat.type("/quit\r");
            assertEquals(0, chat.exitCode());
        }
    }

    /** A key pressed just before a reply (while the conversation is rendered) stops it: it is not lost. */
    @Test
    void aKeyPressedBeforeTheReplyStopsIt() throws Exception {
        ModelOptions options = new ModelOptions(256, 64, 2, glmj.engine.EngineChoice.java, glmj.engine.KernelChoice.vector, false,
                glmj.engine.PrefetchChoice.auto);
        try (Model loaded = Models.open(BuiltInModel.path(), options, notice -> { }); Session context = loaded.newSession()) {
            Generator generator = new Generator(context, loaded.tokenizer(), true);
            ChatSession session = new ChatSession(generator, loaded.chatFormat(), SamplerSettings.greedy());
            session.setMaxTokens(3);
            assertEquals(StopReason.TOKEN_LIMIT, session.reply("Hi", piece -> { }).stopReason());
            int held = session.contextTokens();
            generator.cancel();
            AtomicInteger pieces = new AtomicInteger();
            Generation stopped = session.reply("And then?", piece -> pieces.incrementAndGet());
            assertEquals(StopReason.CANCELLED, stopped.stopReason());
            assertEquals(0, pieces.get());
            assertEquals(2, session.messages().size(), "the question is left out");
            assertEquals(held, session.contextTokens(), "the context is as it was");
            generator.clearCancel();
            assertEquals(StopReason.TOKEN_LIMIT, session.reply("And then?", piece -> { }).stopReason());
            assertEquals(4, session.messages().size());
        }
    }

    @Test
    void resetForgetsTheConversation(@TempDir Path home) throws Exception {
        String printed = chat(home, "Hi\n/reset\n/stats\n/quit\n", "-c", "256", "--temp", "0", "-n", "2");
        assertTrue(printed.contains("[conversation cleared]"), printed);
        assertTrue(printed.contains("context: 0 tokens; turns: 0"), printed);
    }

    /** A chat on its own thread over an xterm the test types into as it goes, key by key, and reads as it prints. */
    private static final class LiveChat implements AutoCloseable {
        private static final long SECOND = 1_000_000_000L;
        private final PipedOutputStream keys;
        private final Screen screen;
        private final Terminal terminal;
        private final Thread thread;
        private final String userHome;
        private volatile int exitCode = -1;
        private volatile Throwable failure;

        private LiveChat(PipedOutputStream keys, Screen screen, Terminal terminal, ChatCommand command, String userHome) {
            this.keys = keys;
            this.screen = screen;
            this.terminal = terminal;
            this.userHome = userHome;
            this.thread = Thread.ofPlatform().name("chat").start(() -> {
                try {
                    exitCode = command.converse(terminal);
                } catch (Throwable t) {
                    failure = t;
                }
            });
        }

        static LiveChat start(Path home, String... options) throws IOException {
            String userHome = System.getProperty("user.home");
            System.setProperty("user.home", home.toString());
            CommandLine commandLine = new CommandLine(new ChatCommand());
            commandLine.parseArgs(options);
            PipedOutputStream keys = new PipedOutputStream();
            PipedInputStream keyboard = new PipedInputStream(keys, 1 << 16);
            Screen screen = new Screen();
            // a terminal whose line discipline is JLine's: Ctrl-C typed into it raises INT as a system terminal's does
            Terminal terminal = new ExternalTerminal(null, "glmj-test", "xterm", keyboard, screen, StandardCharsets.UTF_8,
                    Terminal.SignalHandler.SIG_DFL, false, null, Size.of(120, 40));
            return new LiveChat(keys, screen, terminal, commandLine.getCommand(), userHome);
        }

        void type(String text) throws IOException {
            keys.write(text.getBytes(StandardCharsets.UTF_8));
            keys.flush();
        }

        /** {@code text} as a terminal pastes it (bracketed), then Enter. */
        void paste(String text) throws IOException {
            type("\u001b[200~" + text + "\u001b[201~\r");
        }

        String printed() {
            return screen.text();
        }

        /** Waits until {@code text} is printed; returns where it ends. */
        int awaitPrinted(String text, int seconds) throws Exception {
            long deadline = System.nanoTime() + seconds * SECOND;
            while (true) {
                String printed = printed();
                int at = printed.indexOf(text);
                if (at >= 0) {
                    return at + text.length();
                }
                check(deadline, "\"" + text + "\"");
            }
        }

        /** Waits until more than {@code length} characters are printed. */
        void awaitPrintedAfter(int length, int seconds) throws Exception {
            long deadline = System.nanoTime() + seconds * SECOND;
            while (printed().length() <= length) {
                check(deadline, length + " characters");
            }
        }

        private void check(long deadline, String awaited) throws Exception {
            if (failure != null) {
                throw new AssertionError("the chat failed", failure);
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("no " + awaited + " in: " + printed());
            }
            Thread.sleep(20);
        }

        /** CPU time of the threads that run the model: the chat's and the kernels' workers. */
        long computingCpuNanos() {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long sum = threads.getThreadCpuTime(thread.threadId());
            for (Thread worker : Thread.getAllStackTraces().keySet()) {
                if (worker.getName().startsWith("glmj-worker-")) {
                    sum += Math.max(0, threads.getThreadCpuTime(worker.threadId()));
                }
            }
            return sum;
        }

        int exitCode() throws Exception {
            thread.join(60_000);
            if (failure != null) {
                throw new AssertionError("the chat failed", failure);
            }
            return exitCode;
        }

        @Override
        public void close() throws Exception {
            keys.close();
            thread.join(60_000);
            terminal.close();
            System.setProperty("user.home", userHome);
        }
    }

    /** What the terminal printed, readable while it prints. */
    private static final class Screen extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
