package glmj.chat;

import glmj.generate.Generation;
import glmj.generate.Generator;
import glmj.sampler.Sampler;
import glmj.sampler.SamplerSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * A conversation with a model. Each reply renders the whole conversation in its {@link ChatFormat}, and the session
 * keeps the part of its context that still matches it and processes only the rest, so a long chat is not re-read
 * every turn.
 */
public final class ChatSession {
    private final Generator generator;
    private final ChatFormat format;
    private final List<ChatMessage> messages = new ArrayList<>();
    private String system = "";
    private boolean thinking = true;
    private SamplerSettings settings;
    private int maxTokens = -1;
    private Generation last;

    public ChatSession(Generator generator, ChatFormat format, SamplerSettings settings) {
        this.generator = generator;
        this.format = format;
        this.settings = settings;
    }

    public Generator generator() {
        return generator;
    }

    public List<ChatMessage> messages() {
        return List.copyOf(messages);
    }

    public String system() {
        return system;
    }

    /** Sets the system message that opens the conversation; empty for none. */
    public void setSystem(String text) {
        system = text.strip();
    }

    public boolean thinking() {
        return thinking;
    }

    public void setThinking(boolean on) {
        thinking = on;
    }

    public SamplerSettings settings() {
        return settings;
    }

    public void setSettings(SamplerSettings newSettings) {
        settings = newSettings;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** Tokens per answer at most; -1 for no limit but the context. */
    public void setMaxTokens(int limit) {
        maxTokens = limit;
    }

    /** The last reply's counts and times, or {@code null} before the first. */
    public Generation lastGeneration() {
        return last;
    }

    /** Tokens the model's context holds now. */
    public int contextTokens() {
        return generator.model().position();
    }

    /** Forgets the conversation (the system message stays). */
    public void reset() {
        messages.clear();
        generator.model().truncate(0);
    }

    /** Answers {@code userText}, streaming the answer's text (reasoning included) to {@code text}. */
    public Generation reply(String userText, Consumer<String> text) {
        List<ChatMessage> conversation = new ArrayList<>();
        if (!system.isEmpty()) {
            conversation.add(ChatMessage.system(system));
        }
        conversation.addAll(messages);
        conversation.add(ChatMessage.user(userText));
        String prompt = format.render(conversation, thinking, true);
        int[] tokens = generator.tokenizer().encode(prompt, false, true);
        int kept = generator.model().keepCommonPrefix(tokens);
        int[] fresh = Arrays.copyOfRange(tokens, kept, tokens.length);
        Generation generation = generator.generate(fresh, new Sampler(settings, generator.model().vocabularySize()), maxTokens, text);
        messages.add(ChatMessage.user(userText));
        Reasoning answer = format.splitReasoning(generation.text(), thinking);
        messages.add(ChatMessage.assistant(answer.content(), answer.reasoning()));
        last = generation;
        return generation;
    }
}
