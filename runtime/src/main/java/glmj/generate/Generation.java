package glmj.generate;

/**
 * One finished generation: the text, why it stopped, and the two phases' token counts and times. Generated tokens
 * include the end-of-generation token, as llama.cpp counts them.
 */
public record Generation(String text, StopReason stopReason, int promptTokens, long promptNanos, int generatedTokens, long generationNanos) {

    public double promptTokensPerSecond() {
        return perSecond(promptTokens, promptNanos);
    }

    /** Tokens per second after the first: each of those took one decode step. */
    public double generationTokensPerSecond() {
        return perSecond(generatedTokens - 1, generationNanos);
    }

    private static double perSecond(int tokens, long nanos) {
        return tokens <= 0 || nanos <= 0 ? 0 : tokens * 1e9 / nanos;
    }
}
