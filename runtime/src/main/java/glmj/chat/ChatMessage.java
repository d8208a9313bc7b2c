package glmj.chat;

import java.util.Objects;

/**
 * One turn of a conversation.
 *
 * @param reasoning an assistant turn's thinking kept apart from its content, or null (the content may then carry it
 *                  inline as {@code <think>...</think>})
 */
public record ChatMessage(Role role, String content, String reasoning) {
    public enum Role {
        SYSTEM, USER, ASSISTANT;

        /** The role name chat templates use. */
        public String templateName() {
            return name().toLowerCase();
        }
    }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (reasoning != null && role != Role.ASSISTANT) {
            throw new IllegalArgumentException("only an assistant message has reasoning, not a " + role.templateName() + " message");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, content, null);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, content, null);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(Role.ASSISTANT, content, null);
    }

    public static ChatMessage assistant(String content, String reasoning) {
        return new ChatMessage(Role.ASSISTANT, content, reasoning);
    }
}
