package glmj.chat;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import glmj.chat.jinja.TemplateException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Jazzer fuzzing of the sandboxed chat-template interpreter, as a model file's template reaches it: any text either
 * renders a conversation or fails with a one-line {@link TemplateException}, within its step and size budgets. The
 * seeds in ChatTemplateJazzerTestInputs (GLM-5's own template among them) run as regression tests;
 * {@code scripts/fuzz template} fuzzes.
 */
class ChatTemplateJazzerTest {
    private static final List<ChatMessage> CONVERSATION = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi {{ x }}"),
            ChatMessage.assistant("Hello.", "greet back"), ChatMessage.user("And then?"));

    @FuzzTest(maxDuration = "5m")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void render(byte[] bytes) {
        String source = new String(bytes, StandardCharsets.UTF_8);
        try {
            ChatFormat format = ChatFormat.fromTemplate(source);
            assertNotNull(format.render(CONVERSATION, false, true));
        } catch (TemplateException e) {
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
