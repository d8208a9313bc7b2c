package glmj.chat;

/** A generated answer split for display: the thinking between {@code <think>} and {@code </think>}, and the rest. */
public record Reasoning(String reasoning, String content) {
    static final String OPEN = "<think>";
    static final String CLOSE = "</think>";

    /**
     * Splits generated text. The thinking ends at the first {@code </think>}; it starts at a leading {@code <think>}, or
     * at the beginning when the prompt already opened the block ({@code startsInsideThinking}) or when only the closing
     * tag is present. Text with an opened but unclosed block is all thinking (generation still under way). Both parts are
     * trimmed.
     */
    public static Reasoning split(String generated, boolean startsInsideThinking) {
        String text = generated.stripLeading();
        boolean opened = text.startsWith(OPEN);
        if (opened) {
            text = text.substring(OPEN.length());
        }
        int close = text.indexOf(CLOSE);
        if (close >= 0) {
            return new Reasoning(text.substring(0, close).strip(), text.substring(close + CLOSE.length()).strip());
        }
        if (opened || startsInsideThinking) {
            return new Reasoning(text.strip(), "");
        }
        return new Reasoning("", text.strip());
    }
}
