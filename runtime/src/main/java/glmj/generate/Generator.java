package glmj.generate;

import glmj.sampler.Sampler;
import glmj.tokenizer.Tokenizer;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * Turns a prompt into a streamed answer: the prompt goes through the session as one prefill, then tokens are sampled
 * one at a time until an end-of-generation token, the token limit, the end of the context, or {@link #cancel()}, which
 * stops the prompt or the token under way within the session's work in flight (see {@link Processing}).
 * Text reaches the consumer as soon as it is valid UTF-8.
 */
public final class Generator {
    private final Session model;
    private final Tokenizer tokenizer;
    private volatile boolean cancelled;
    private final Processing prefill = Processing.of(this::isCancelled, this::reportProgress);
    private final Processing decode = Processing.of(this::isCancelled, done -> { });
    private PromptProgress progress = (done, total) -> { };
    private int promptLength;

    /** Hears how far a prompt has got: {@code done} of its {@code total} tokens, first 0, last {@code total} unless cancelled. */
    @FunctionalInterface
    public interface PromptProgress {
        void processed(int done, int total);
    }

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

    /** Tells {@code listener} how far each prompt has got: at its start, as the session reports progress, at its end. */
    public void onPromptProgress(PromptProgress listener) {
        progress = listener;
    }

    private void reportProgress(int done) {
        progress.processed(done, promptLength);
    }

    /**
     * Stops the generation under way, or the next one: its prompt or the token being computed within the session's
     * work in flight; safe to call from another thread (a Ctrl-C handler). It holds until {@link #clearCancel()}, so a
     * key pressed just before a generation starts (while its prompt is rendered) is not lost.
     */
    public void cancel() {
        cancelled = true;
    }

    /** Withdraws a {@link #cancel()}: call it before handing out the means to cancel the next generation. */
    public void clearCancel() {
        cancelled = false;
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /**
     * Appends {@code prompt} to the model's context and generates up to {@code maxTokens} tokens after it
     * ({@code maxTokens < 0}: until the context is full), passing the text to {@code text} as it comes. When cancelled
     * the context holds the prompt's batches finished before (a cancelled prompt generates nothing), or the prompt and
     * the tokens generated, but for the last when its step was the one stopped.
     */
    public Generation generate(int[] prompt, Sampler sampler, int maxTokens, Consumer<String> text) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        long start = System.nanoTime();
        float[] logits;
        promptLength = prompt.length;
        progress.processed(0, prompt.length);
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
            try {
                logits = model.forward(next, 0, 1, decode);
            } catch (CancellationException stopped) {
                reason = StopReason.CANCELLED;
                break;
            }
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
