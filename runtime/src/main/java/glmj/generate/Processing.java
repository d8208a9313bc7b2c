package glmj.generate;

import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * How a session processes a prompt: {@code allLogits}, when not null, receives every position's logits (row i the
 * logits after token i, a vocabulary's length each); {@code cancelled} is asked between batches and between layers
 * and stops the prompt when it says so; {@code progress} hears the tokens done after each batch.
 */
public record Processing(float[] allLogits, BooleanSupplier cancelled, IntConsumer progress) {
    private static final BooleanSupplier NEVER = () -> false;
    private static final IntConsumer SILENT = done -> { };

    /** Last logits only, never cancelled, no progress. */
    public static final Processing PLAIN = new Processing(null, NEVER, SILENT);

    /** Processing that stops when {@code cancelled} says so and tells {@code progress} the tokens done. */
    public static Processing of(BooleanSupplier cancelled, IntConsumer progress) {
        return new Processing(null, cancelled, progress);
    }

    /** Every position's logits into {@code logits}. */
    public static Processing allLogits(float[] logits) {
        return new Processing(logits, NEVER, SILENT);
    }
}
