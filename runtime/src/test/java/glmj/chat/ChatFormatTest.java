package glmj.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChatFormatTest {

    @Test
    void rendersTurnsAndTheGenerationPromptWithThinkingOnOrOff() {
        List<ChatMessage> conversation = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"));
        assertEquals("[gMASK]<sop><|system|>Be brief.<|user|>Hi<|assistant|><think>", ChatFormat.render(conversation, true, true));
        assertEquals("[gMASK]<sop><|system|>Be brief.<|user|>Hi<|assistant|></think>", ChatFormat.render(conversation, false, true));
        assertEquals("[gMASK]<sop><|system|>Be brief.<|user|>Hi", ChatFormat.render(conversation, true, false));
    }

    @Test
    void earlierReasoningIsDroppedAndTheLatestKept() {
        List<ChatMessage> conversation = List.of(
                ChatMessage.user("2+2?"),
                ChatMessage.assistant(" 4 ", "add them"),
                ChatMessage.user("and 3+3?"),
                ChatMessage.assistant("6", "again"));
        assertEquals("[gMASK]<sop><|user|>2+2?<|assistant|></think>4<|user|>and 3+3?<|assistant|><think>again</think>6",
                ChatFormat.render(conversation, true, false));
    }

    @Test
    void answersSplitIntoReasoningAndText() {
        ChatMessage thought = ChatFormat.parseAnswer("\nfirst, think\n</think>\nThe answer.");
        assertEquals("first, think", thought.reasoning());
        assertEquals("The answer.", thought.content());
        ChatMessage plain = ChatFormat.parseAnswer("Just this. ");
        assertEquals("", plain.reasoning());
        assertEquals("Just this.", plain.content());
    }

    @Test
    void recognizesTheGlmFamilyTemplatesOnly() {
        String glm = "[gMASK]<sop>{% for m in messages %}{% if m.role == 'assistant' %}<|assistant|></think>"
                + "{{ m.content }}{% endif %}{% endfor %}";
        assertTrue(ChatFormat.recognizes(glm));
        assertFalse(ChatFormat.recognizes("{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}"));
    }
}
