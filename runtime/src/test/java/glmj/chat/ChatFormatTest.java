package glmj.chat;

import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static glmj.chat.ChatMessage.assistant;
import static glmj.chat.ChatMessage.system;
import static glmj.chat.ChatMessage.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in GLM formats, and that llama.cpp's GLM templates run by our interpreter render exactly the same. */
class ChatFormatTest {
    private static final Path TEMPLATES = Path.of(System.getProperty("glmj.llama.src",
            "/work/main/.deps/llama-v0.5.0/src"), "models", "templates");

    private static String template(String name) throws IOException {
        Path file = TEMPLATES.resolve(name);
        assertTrue(Files.isRegularFile(file), file + " is missing: run scripts/install-llama");
        return Files.readString(file);
    }

    private static final List<List<ChatMessage>> CONVERSATIONS = List.of(
            List.of(user("Hello")),
            List.of(system("You are terse."), user("What is 2+2?")),
            List.of(system("S"), user("first"), assistant("one", "thought one"), user("second")),
            List.of(user("q1"), assistant("<think>\nreasoning inline\n</think>\n\nanswer one"), user("q2"),
                    assistant("  answer two  "), user("q3 /nothink")),
            // the last turn is the assistant's: its thinking is kept
            List.of(system("sys"), user("question"), assistant("final answer", "  the thinking  ")),
            List.of(user("a"), assistant("<think>r</think>b"), assistant("<think>later</think>c")),
            List.of(user("multi\nline\n"), assistant("", "only thinking"), user("  spaced  ")),
            List.of(system("only a system turn")));

    @Test
    void glm5IsTheCompactStyleWithThinkingInThePrompt() {
        ChatFormat glm5 = ChatFormat.glm5();
        List<ChatMessage> chat = List.of(system("S"), user("U"));
        assertEquals("[gMASK]<sop><|system|>S<|user|>U<|assistant|><think>", glm5.render(chat, true, true));
        assertEquals("[gMASK]<sop><|system|>S<|user|>U<|assistant|></think>", glm5.render(chat, false, true));
        assertEquals("[gMASK]<sop><|system|>S<|user|>U", glm5.render(chat, true, false));
    }

    @Test
    void earlierThinkingIsDroppedAndTheLatestKept() {
        ChatFormat glm5 = ChatFormat.glm5();
        assertEquals("[gMASK]<sop><|user|>a<|assistant|></think>b<|user|>c<|assistant|><think>",
                glm5.render(List.of(user("a"), assistant("b", "old thought"), user("c")), true, true));
        assertEquals("[gMASK]<sop><|user|>a<|assistant|><think>new thought</think>b",
                glm5.render(List.of(user("a"), assistant(" b ", "\nnew thought\n")), true, false));
    }

    @Test
    void glm46StyleHasNewlinesAndNothink() {
        ChatFormat glm46 = ChatFormat.builtIn(ChatFormat.Style.GLM_4_6);
        List<ChatMessage> chat = List.of(system("S"), user("U"), assistant("A", "R"), user("V"));
        assertEquals("[gMASK]<sop><|system|>\nS<|user|>\nU<|assistant|>\n<think></think>\nA<|user|>\nV<|assistant|>",
                glm46.render(chat, true, true));
        assertEquals("[gMASK]<sop><|system|>\nS<|user|>\nU/nothink<|assistant|>\n<think></think>\nA<|user|>\nV/nothink"
                + "<|assistant|>\n<think></think>", glm46.render(chat, false, true));
    }

    @Test
    void llamaCppsGlmTemplatesRenderExactlyAsTheBuiltInFormats() throws IOException {
        assertSameAsBuiltIn(ChatFormat.fromTemplate(template("GLM-4.6.jinja")), ChatFormat.builtIn(ChatFormat.Style.GLM_4_6));
        assertSameAsBuiltIn(ChatFormat.fromTemplate(template("GLM-4.7-Flash.jinja")), ChatFormat.glm5());
    }

    private static void assertSameAsBuiltIn(ChatFormat fromTemplate, ChatFormat builtIn) {
        assertTrue(fromTemplate.isTemplate());
        assertFalse(builtIn.isTemplate());
        int compared = 0;
        for (List<ChatMessage> conversation : CONVERSATIONS) {
            for (boolean thinking : new boolean[] {true, false}) {
                for (boolean generationPrompt : new boolean[] {true, false}) {
                    assertEquals(builtIn.render(conversation, thinking, generationPrompt),
                            fromTemplate.render(conversation, thinking, generationPrompt),
                            "conversation " + conversation + " thinking " + thinking + " prompt " + generationPrompt);
                    compared++;
                }
            }
        }
        assertEquals(CONVERSATIONS.size() * 4, compared);
    }

    @Test
    void stopTokensEndTheAssistantTurn() {
        assertEquals(List.of("<|user|>", "<|observation|>", "<|endoftext|>"), ChatFormat.glm5().stopTokens());
    }

    @Test
    void reasoningIsSplitFromTheAnswer() {
        assertEquals(new Reasoning("let me see", "42"), Reasoning.split("let me see</think>\n42", true));
        assertEquals(new Reasoning("let me see", "42"), Reasoning.split("<think>let me see</think>42", false));
        assertEquals(new Reasoning("still thinking", ""), Reasoning.split("still thinking", true));
        assertEquals(new Reasoning("still", ""), Reasoning.split("\n<think>still", false));
        assertEquals(new Reasoning("", "plain answer"), Reasoning.split("plain answer\n", false));
        assertEquals(new Reasoning("", "a <think> mid-answer"), Reasoning.split("a <think> mid-answer", false));
    }

    @Test
    void theFormatKnowsWhetherItsPromptOpensThinking() throws IOException {
        assertTrue(ChatFormat.glm5().generationPromptOpensThinking(true));
        assertFalse(ChatFormat.glm5().generationPromptOpensThinking(false));
        ChatFormat glm46 = ChatFormat.fromTemplate(template("GLM-4.6.jinja"));
        assertFalse(glm46.generationPromptOpensThinking(true));
        assertEquals(new Reasoning("hm", "ok"), glm46.splitReasoning("<think>hm</think>ok", true));
        assertEquals(new Reasoning("hm", ""), ChatFormat.glm5().splitReasoning("hm", true));
        assertEquals(new Reasoning("", "hm"), ChatFormat.glm5().splitReasoning("hm", false));
    }

    @Test
    void theFileTemplateIsUsedWhenItWorksAndTheBuiltInOtherwiseWithAWarning(@TempDir Path dir) throws IOException {
        List<String> warnings = new ArrayList<>();
        Path withTemplate = dir.resolve("with.gguf");
        new GGUFWriter().putString(ChatFormat.TEMPLATE_KEY, template("GLM-4.7-Flash.jinja")).write(withTemplate);
        try (GGUFFile file = GGUFFile.open(withTemplate)) {
            ChatFormat format = ChatFormat.fromMetadata(file.metadata(), warnings::add);
            assertTrue(format.isTemplate());
            assertEquals(List.of(), warnings);
        }

        Path broken = dir.resolve("broken.gguf");
        new GGUFWriter().putString(ChatFormat.TEMPLATE_KEY, "{% for m in messages %}{{ m.content | frobnicate }}").write(broken);
        try (GGUFFile file = GGUFFile.open(broken)) {
            ChatFormat format = ChatFormat.fromMetadata(file.metadata(), warnings::add);
            assertFalse(format.isTemplate());
            assertEquals(1, warnings.size());
            assertTrue(warnings.getFirst().contains("unknown filter 'frobnicate'"), warnings.getFirst());
            assertTrue(warnings.getFirst().endsWith("using the built-in GLM-5 chat format"), warnings.getFirst());
        }

        Path without = dir.resolve("without.gguf");
        new GGUFWriter().putString("general.name", "x").write(without);
        try (GGUFFile file = GGUFFile.open(without)) {
            assertFalse(ChatFormat.fromMetadata(file.metadata(), warnings::add).isTemplate());
            assertEquals("the model file has no tokenizer.chat_template; using the built-in GLM-5 chat format", warnings.get(1));
        }
    }
}
