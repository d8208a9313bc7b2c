package glmj.generate;

import glmj.sampler.Sampler;
import glmj.tokenizer.Tokenizer;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Turns a prompt into a streamed answer: the prompt goes through the session as one prefill, then tokens are sampled
 * one at a time until an end-of-generation token, the token limit, the end of the context, or {@link #cancel()}, which
 * also stops a long prompt between its batches and layers.
 * Text reaches the consumer as soon as it is valid UTF-8.
 */
public final class Generator {
    private final Session model;
    private final Tokenizer tokenizer;
    private volatile boolean cancelled;
    private final Processing prefill = Processing.of(() -> cancelled, this::reportProgress);
    private IntConsumer progress = done -> { };

    private final boolean showsSpecialTokens;

    /** A generator whose text leaves out special tokens. */
    public Generator(Session model, Tokenizer tokenizer) {
        this(model, tokenizer, false);
    }

    /** A generator whose text shows special tokens (such as {@code </think>}) when {@code showsSpecialTokens}. */
    public Generator(Session model, Tokenizer tokenizer, boolean showsSpecialTokens) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.showsSpecialTokens = showsSpecialTokens;
    }

    public Session model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Tells {@code listener} the prompt tokens processed so far, after each batch of a prompt. */
    public void onPromptProgress(IntConsumer listener) {
        progress = listener;
    }

    private void reportProgress(int done) {
        progress.accept(done);
    }

    /** Stops the generation under way after its current token, or its prompt after the current layer; safe to call from another thread. */
    public void cancel() {
        cancelled = true;
    }

    /**
     * Appends {@code prompt} to the model's context and generates up to {@code maxTokens} tokens after it
     * ({@code maxTokens < 0}: until the context is full), passing the text to {@code text} as it comes.
     */
    public Generation generate(int[] prompt, Sampler sampler, int maxTokens, Consumer<String> text) {
        cancelled = false;
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        long start = System.nanoTime();
        float[] logits;
        try {
            logits = model.forward(prompt, 0, prompt.length, prefill);
        } catch (CancellationException stopped) {
            return new Generation("", StopReason.CANCELLED, prompt.length, System.nanoTime() - start, 0, 0);
        }
        long prefilled = System.nanoTime();
        for (int token : prompt) {
            sampler.accept(token);
        }
        Tokenizer.StreamDecoder decoder = tokenizer.newStreamDecoder(showsSpecialTokens);
        StringBuilder answer = new StringBuilder();
        int[] next = new int[1];
        int generated = 0;
        StopReason reason;
        while (true) {
            if (cancelled) {
                reason = StopReason.CANCELLED;
                break;
            }
            if (generated == maxTokens) {
                reason = StopReason.TOKEN_LIMIT;
                break;
            }
            int token = sampler.sample(logits);
            generated++;
            if (tokenizer.isEndOfGeneration(token)) {
                reason = StopReason.END_OF_GENERATION;
                break;
            }
            sampler.accept(token);
            emit(decoder.append(token), answer, text);
            if (generated == maxTokens) {
                reason = StopReason.TOKEN_LIMIT;
                break;
            }
            if (model.position() == model.contextSize()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            next[0] = token;
            logits = model.forward(next, 0, 1);
        }
        emit(decoder.flush(), answer, text);
        long end = System.nanoTime();
        return new Generation(answer.toString(), reason, prompt.length, prefilled - start, generated, end - prefilled);
    }

    private static void emit(String piece, StringBuilder answer, Consumer<String> text) {
        if (!piece.isEmpty()) {
            answer.append(piece);
            text.accept(piece);
        }
    }
}
