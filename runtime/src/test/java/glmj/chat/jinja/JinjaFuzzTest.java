package glmj.chat.jinja;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** Random templates built from template fragments either render or fail with a one-line TemplateException, quickly. */
class JinjaFuzzTest {
    private static final String[] FRAGMENTS = {
            "{{", "}}", "{%", "%}", "{%-", "-%}", "{#", "#}", " ", "\n", "x", "'s'", "\"t\"", "1", "2.5", "-", "+", "*", "/",
            "//", "%", "**", "~", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "=", "==", "!=", "<", ">",
            "if", "elif", "else", "endif", "for", "in", "endfor", "set", "macro", "endmacro", "not", "and", "or", "is",
            "defined", "string", "none", "true", "loop", "index0", "messages", "m", "role", "content", "namespace",
            "range", "split", "strip", "items", "length", "tojson", "join", "raise_exception", "__class__", "break"};

    /** Fragments from here on are expression tokens. */
    private static final int EXPRESSION_START = 10;

    private static final Map<String, Object> CONTEXT = Map.of(
            "messages", List.of(Map.of("role", "user", "content", "hi"), Map.of("role", "assistant", "content", "<think>r</think>a")),
            "m", Map.of("role", "user", "content", List.of("a", 1, 2.5)),
            "x", "value");

    @Test
    void randomTemplatesFailOnlyWithOneLineTemplateErrors() {
        Random random = new Random(20240611);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int n = 0; n < 20_000; n++) {
                StringBuilder source = new StringBuilder();
                // half are expressions inside one output tag, so that most get past the lexer into the evaluator
                boolean expression = n % 2 == 0;
                int length = 1 + random.nextInt(expression ? 8 : 30);
                source.append(expression ? "{{ " : "");
                for (int i = 0; i < length; i++) {
                    int pick = expression ? EXPRESSION_START + random.nextInt(FRAGMENTS.length - EXPRESSION_START) : random.nextInt(FRAGMENTS.length);
                    source.append(FRAGMENTS[pick]).append(random.nextInt(3) == 0 ? " " : "");
                }
                source.append(expression ? " }}" : "");
                try {
                    JinjaTemplate.parse(source.toString()).render(CONTEXT);
                } catch (TemplateException e) {
                    assertFalse(e.getMessage().contains("\n"), "multi-line message for " + source + ": " + e.getMessage());
                } catch (RuntimeException e) {
                    throw new AssertionError("template " + source + " threw " + e, e);
                }
            }
        });
    }
}
