package glmj.chat.jinja;

/**
 * A template that cannot be parsed or rendered, or that broke a limit: one line saying what and at which line. Text
 * quoted from the template (or raised by it) keeps its line breaks escaped, so the message stays one line.
 */
public final class TemplateException extends RuntimeException {
    public TemplateException(String message) {
        super(message.replace("\r", "\\r").replace("\n", "\\n"));
    }

    static TemplateException at(int line, String message) {
        return new TemplateException("template line " + line + ": " + message);
    }
}
