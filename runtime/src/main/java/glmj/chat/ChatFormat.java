package glmj.chat;

import java.util.List;

/**
 * GLM-5's conversation format, the GLM-4.5+ family's (llama.cpp's {@code models/templates/GLM-4.7-Flash.jinja}):
 * {@code [gMASK]<sop>}, then each turn as {@code <|system|>}, {@code <|user|>} or {@code <|assistant|>} followed by its
 * text with no separator; an assistant turn opens with {@code <think>reasoning</think>} when its reasoning is kept
 * (the turns after the last user message) and with a bare {@code </think>} otherwise. The prompt for a new answer
 * ends in {@code <|assistant|><think>} with thinking on, {@code <|assistant|></think>} with it off. The answer ends at
 * {@code <|user|>}, {@code <|observation|>} or {@code <|endoftext|>}, which the tokenizer counts as end of generation.
 * The format is built in rather than rendered from the file's Jinja template, so a file's template is never run.
 */
public final class ChatFormat {
    public static final String PREFIX = "[gMASK]<sop>";
    public static final String THINK_OPEN = "<think>";
    public static final String THINK_CLOSE = "</think>";

    private ChatFormat() {}

    /** Whether a file's chat template is of the GLM-4.5+ family that this format reproduces. */
    public static boolean recognizes(String template) {
        return template.contains(PREFIX) && template.contains("<|assistant|>") && template.contains(THINK_CLOSE);
    }

    /** The conversation as the model reads it, ready for the next answer when {@code generationPrompt} is set. */
    public static String render(List<ChatMessage> messages, boolean thinking, boolean generationPrompt) {
        int lastUser = -1;
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).role() == ChatMessage.Role.USER) {
                lastUser = i;
            }
        }
        StringBuilder text = new StringBuilder(PREFIX);
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage message = messages.get(i);
            switch (message.role()) {
                case SYSTEM -> text.append("<|system|>").append(message.content());
                case USER -> text.append("<|user|>").append(message.content());
                case ASSISTANT -> {
                    text.append("<|assistant|>");
                    boolean keepsReasoning = i > lastUser && !message.reasoning().isBlank();
                    text.append(keepsReasoning ? THINK_OPEN + message.reasoning().strip() + THINK_CLOSE : THINK_CLOSE);
                    text.append(message.content().strip());
                }
            }
        }
        if (generationPrompt) {
            text.append("<|assistant|>").append(thinking ? THINK_OPEN : THINK_CLOSE);
        }
        return text.toString();
    }

    /** An answer split into its reasoning (before {@code </think>}) and what it says; no {@code </think>}, no reasoning. */
    public static ChatMessage parseAnswer(String answer) {
        int close = answer.indexOf(THINK_CLOSE);
        if (close < 0) {
            return ChatMessage.assistant(answer.strip(), "");
        }
        String reasoning = answer.substring(0, close);
        int open = reasoning.lastIndexOf(THINK_OPEN);
        if (open >= 0) {
            reasoning = reasoning.substring(open + THINK_OPEN.length());
        }
        return ChatMessage.assistant(answer.substring(close + THINK_CLOSE.length()).strip(), reasoning.strip());
    }
}
