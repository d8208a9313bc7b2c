package glmj.chat.jinja;

/** A template that cannot be parsed or rendered, or that broke a limit: one line saying what and at which line. */
public final class TemplateException extends RuntimeException {
    public TemplateException(String message) {
        super(message);
    }

    static TemplateException at(int line, String message) {
        return new TemplateException("template line " + line + ": " + message);
    }
}
