package glmj.generate;

/** Why a generation ended. */
public enum StopReason {
    /** The model produced an end-of-generation token (end of text, end of turn). */
    END_OF_GENERATION,
    /** The requested number of tokens was generated. */
    TOKEN_LIMIT,
    /** The context has no room for another token. */
    CONTEXT_FULL,
    /** {@link Generator#cancel()} was called. */
    CANCELLED
}
