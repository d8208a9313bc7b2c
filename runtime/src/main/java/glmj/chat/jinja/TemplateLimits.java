package glmj.chat.jinja;

/**
 * What one rendering may spend, so that a template from a model file, which is data, cannot hang or exhaust memory.
 *
 * @param maxSteps       statements, expression nodes and loop iterations evaluated, plus one per 16 characters or list
 *                       items built by an operation
 * @param maxOutputChars characters of output, and of any single string or list an operation builds
 * @param maxCallDepth   nested macro calls
 * @param maxNesting     nesting of blocks and sub-expressions in the source
 */
public record TemplateLimits(long maxSteps, int maxOutputChars, int maxCallDepth, int maxNesting) {
    public TemplateLimits {
        if (maxSteps <= 0 || maxOutputChars <= 0 || maxCallDepth <= 0 || maxNesting <= 0) {
            throw new IllegalArgumentException("template limits must be positive");
        }
    }

    /** Room for conversations of a few thousand messages and about a million characters. */
    public static TemplateLimits defaults() {
        return new TemplateLimits(5_000_000, 4 << 20, 32, 100);
    }
}
