package glmj.chat;

import glmj.chat.jinja.JinjaTemplate;
import glmj.chat.jinja.TemplateException;
import glmj.gguf.Metadata;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Turns a conversation into the prompt text of the GLM-4.5+ family (GLM-5 included), special tokens written out, either
 * with the model file's own chat template (run by our sandboxed {@link JinjaTemplate}) or with the built-in formatter.
 * The built-in styles reproduce, for system, user and assistant turns, what llama.cpp's models/templates/GLM-4.6.jinja
 * and GLM-4.7-Flash.jinja render when given {@code enable_thinking}: GLM-5 uses the GLM-4.7 style.
 */
public final class ChatFormat {
    /** The metadata key of the chat template in a GGUF file. */
    public static final String TEMPLATE_KEY = "tokenizer.chat_template";

    /** The texts of the tokens that end an assistant turn. */
    public static final List<String> STOP_TOKENS = List.of("<|user|>", "<|observation|>", "<|endoftext|>");

    public enum Style {
        /** {@code <|user|>\n...}; thinking off appends {@code /nothink} to user turns and {@code \n<think></think>} to the prompt. */
        GLM_4_6,
        /** {@code <|user|>...} with no newlines; the prompt ends in {@code <think>}, or {@code </think>} with thinking off. GLM-5's. */
        GLM_4_7
    }

    private static final String PREFIX = "[gMASK]<sop>";

    private final Style style;
    private final JinjaTemplate template;

    private ChatFormat(Style style, JinjaTemplate template) {
        this.style = style;
        this.template = template;
    }

    /** The built-in GLM-5 format. */
    public static ChatFormat glm5() {
        return builtIn(Style.GLM_4_7);
    }

    public static ChatFormat builtIn(Style style) {
        return new ChatFormat(style, null);
    }

    /** A format rendered by a Jinja chat template; a template outside the supported subset is a {@link TemplateException}. */
    public static ChatFormat fromTemplate(String source) {
        ChatFormat format = new ChatFormat(null, JinjaTemplate.parse(source));
        format.render(List.of(ChatMessage.system("s"), ChatMessage.user("u"), ChatMessage.assistant("a", "r"), ChatMessage.user("u")), true, true);
        return format;
    }

    /**
     * The file's chat template when it has one that parses and renders a trial conversation; otherwise the built-in GLM-5
     * format, after telling {@code warnings} why.
     */
    public static ChatFormat fromMetadata(Metadata metadata, Consumer<String> warnings) {
        if (!metadata.has(TEMPLATE_KEY)) {
            warnings.accept("the model file has no " + TEMPLATE_KEY + "; using the built-in GLM-5 chat format");
            return glm5();
        }
        try {
            return fromTemplate(metadata.getString(TEMPLATE_KEY));
        } catch (TemplateException e) {
            warnings.accept("the model file's chat template is not usable (" + e.getMessage() + "); using the built-in GLM-5 chat format");
            return glm5();
        }
    }

    /** Whether this format comes from a template rather than the built-in formatter. */
    public boolean isTemplate() {
        return template != null;
    }

    public List<String> stopTokens() {
        return STOP_TOKENS;
    }

    /**
     * The prompt text.
     *
     * @param thinking            whether the model should think before answering ({@code enable_thinking})
     * @param addGenerationPrompt whether to open the assistant turn the model is to write
     */
    public String render(List<ChatMessage> messages, boolean thinking, boolean addGenerationPrompt) {
        return render(messages, thinking, addGenerationPrompt, () -> false);
    }

    /**
     * {@link #render(List, boolean, boolean)}, asking {@code cancelled} as a template renders.
     *
     * @throws java.util.concurrent.CancellationException when {@code cancelled} says so
     */
    public String render(List<ChatMessage> messages, boolean thinking, boolean addGenerationPrompt, BooleanSupplier cancelled) {
        if (template != null) {
            return renderTemplate(messages, thinking, addGenerationPrompt, cancelled);
        }
        return renderBuiltIn(messages, thinking, addGenerationPrompt);
    }

    /** Whether the generation prompt leaves the model inside a {@code <think>} block, for {@link Reasoning#split}. */
    public boolean generationPromptOpensThinking(boolean thinking) {
        return render(List.of(ChatMessage.user("?")), thinking, true).endsWith(Reasoning.OPEN);
    }

    /** Splits what the model generated after this format's generation prompt into thinking and answer. */
    public Reasoning splitReasoning(String generated, boolean thinking) {
        return Reasoning.split(generated, generationPromptOpensThinking(thinking));
    }

    private String renderTemplate(List<ChatMessage> messages, boolean thinking, boolean addGenerationPrompt, BooleanSupplier cancelled) {
        List<Map<String, Object>> turns = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> turn = new LinkedHashMap<>();
            turn.put("role", m.role().templateName());
            turn.put("content", m.content());
            if (m.reasoning() != null) {
                turn.put("reasoning_content", m.reasoning());
            }
            turns.add(turn);
        }
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", turns);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("enable_thinking", thinking);
        return template.render(variables, cancelled);
    }

    private String renderBuiltIn(List<ChatMessage> messages, boolean thinking, boolean addGenerationPrompt) {
        boolean newlines = style == Style.GLM_4_6;
        int lastUser = -1;
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).role() == ChatMessage.Role.USER) {
                lastUser = i;
            }
        }
        StringBuilder out = new StringBuilder(PREFIX);
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            switch (m.role()) {
                case SYSTEM -> out.append("<|system|>").append(newlines ? "\n" : "").append(m.content());
                case USER -> {
                    out.append("<|user|>").append(newlines ? "\n" : "").append(m.content());
                    if (newlines && !thinking && !m.content().endsWith("/nothink")) {
                        out.append("/nothink");
                    }
                }
                case ASSISTANT -> appendAssistant(out, m, i > lastUser, newlines);
            }
        }
        if (addGenerationPrompt) {
            out.append("<|assistant|>");
            if (newlines) {
                out.append(thinking ? "" : "\n<think></think>");
            } else {
                out.append(thinking ? "<think>" : "</think>");
            }
        }
        return out.toString();
    }

    /**
     * An assistant turn: its thinking is kept only after the last user turn (the one being answered, e.g. when tool
     * results follow), earlier turns get an empty think block.
     */
    private static void appendAssistant(StringBuilder out, ChatMessage m, boolean afterLastUser, boolean newlines) {
        String content = m.content();
        String reasoning = "";
        if (m.reasoning() != null) {
            reasoning = m.reasoning();
        } else if (content.contains(Reasoning.CLOSE)) {
            String before = content.substring(0, content.indexOf(Reasoning.CLOSE));
            before = stripNewlines(before, false, true);
            reasoning = stripNewlines(before.substring(before.lastIndexOf(Reasoning.OPEN) < 0 ? 0
                    : before.lastIndexOf(Reasoning.OPEN) + Reasoning.OPEN.length()), true, false);
            content = stripNewlines(content.substring(content.lastIndexOf(Reasoning.CLOSE) + Reasoning.CLOSE.length()), true, false);
        }
        out.append("<|assistant|>").append(newlines ? "\n" : "");
        if (afterLastUser && !reasoning.isEmpty()) {
            out.append(Reasoning.OPEN).append(reasoning.strip()).append(Reasoning.CLOSE);
        } else {
            out.append(newlines ? Reasoning.OPEN : "").append(Reasoning.CLOSE);
        }
        if (!content.strip().isEmpty()) {
            out.append(newlines ? "\n" : "").append(content.strip());
        }
    }

    private static String stripNewlines(String s, boolean leading, boolean trailing) {
        int start = 0;
        int end = s.length();
        while (leading && start < end && s.charAt(start) == '\n') {
            start++;
        }
        while (trailing && end > start && s.charAt(end - 1) == '\n') {
            end--;
        }
        return s.substring(start, end);
    }
}
