package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ChatCommandTest {

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

    @Test
    void resetForgetsTheConversation(@TempDir Path home) throws Exception {
        String printed = chat(home, "Hi\n/reset\n/stats\n/quit\n", "-c", "256", "--temp", "0", "-n", "2");
        assertTrue(printed.contains("[conversation cleared]"), printed);
        assertTrue(printed.contains("context: 0 tokens; turns: 0"), printed);
    }
}
