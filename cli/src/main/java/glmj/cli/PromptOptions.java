package glmj.cli;

import glmj.engine.Model;
import glmj.chat.ChatMessage;
import glmj.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** How a one-shot prompt reaches the model: as a user turn in GLM-5's chat format, or verbatim with {@code --raw}. */
final class PromptOptions {

    @Option(names = "--raw", description = "Continue the prompt as written, without the chat format.")
    boolean raw;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message before the prompt (chat format only).")
    String system = "";

    @Option(names = "--no-think", description = "Answer without reasoning first (chat format only).")
    boolean noThinking;

    /** The prompt's tokens. */
    int[] tokens(Model loaded, String prompt) {
        Tokenizer tokenizer = loaded.tokenizer();
        if (raw) {
            return tokenizer.encode(prompt, true, true);
        }
        List<ChatMessage> conversation = new ArrayList<>();
        if (!system.isBlank()) {
            conversation.add(ChatMessage.system(system));
        }
        conversation.add(ChatMessage.user(prompt));
        return tokenizer.encode(loaded.chatFormat().render(conversation, !noThinking, true), false, true);
    }

    /** Whether answers show special tokens such as {@code </think>}, which end the model's reasoning. */
    boolean showsSpecialTokens() {
        return !raw;
    }
}
