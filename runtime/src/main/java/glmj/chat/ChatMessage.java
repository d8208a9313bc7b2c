package glmj.chat;

/** One turn of a conversation; {@code reasoning} is an assistant's thinking, kept apart from what it said. */
public record ChatMessage(Role role, String content, String reasoning) {

    public enum Role { SYSTEM, USER, ASSISTANT }

    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, content, "");
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, content, "");
    }

    public static ChatMessage assistant(String content, String reasoning) {
        return new ChatMessage(Role.ASSISTANT, content, reasoning);
    }
}
