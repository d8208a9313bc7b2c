package glmj.quality;

import glmj.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** A text cut into chunks of tokens the way llama-perplexity cuts its {@code -f} file. */
public final class Corpus {
    private Corpus() {
    }

    /** The file's text as llama-perplexity reads {@code -f FILE}: every byte, less one trailing newline. */
    public static byte[] read(Path file) throws IOException {
        byte[] text = Files.readAllBytes(file);
        return text.length > 0 && text[text.length - 1] == '\n' ? Arrays.copyOf(text, text.length - 1) : text;
    }

    /**
     * The text's tokens as llama-perplexity makes them ({@code common_tokenize(ctx, text, true)}): with the BOS token
     * in front if the model's tokenizer adds one (GLM-5's does not), special tokens written in the text read as text.
     */
    public static int[] tokenize(Tokenizer tokenizer, byte[] text) {
        return tokenizer.encode(text, true, false);
    }

    /**
     * How many chunks of {@code chunkLength} the tokens make, at most {@code maxChunks} (none: negative), as
     * llama-perplexity counts them; at least two chunks' worth of tokens are needed, as there.
     */
    public static int chunkCount(int tokens, int chunkLength, int maxChunks) {
        if (tokens < 2 * chunkLength) {
            throw new IllegalArgumentException("the text makes " + tokens + " tokens; a context of " + chunkLength
                    + " needs at least " + 2 * chunkLength);
        }
        int whole = tokens / chunkLength;
        return maxChunks < 0 ? whole : Math.min(maxChunks, whole);
    }

    /**
     * The tokens a model runs: {@code tokens} with the first of each chunk replaced by the BOS token when the
     * model's tokenizer adds one, as llama-perplexity does while it decodes (the base file keeps the text's tokens).
     */
    public static int[] evaluationTokens(int[] tokens, int chunkLength, Tokenizer tokenizer) {
        int[] run = tokens.clone();
        if (tokenizer.addsBos()) {
            for (int start = 0; start < run.length; start += chunkLength) {
                run[start] = tokenizer.bosToken();
            }
        }
        return run;
    }
}
