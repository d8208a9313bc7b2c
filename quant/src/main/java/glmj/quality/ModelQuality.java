package glmj.quality;

/**
 * What {@code glmj quality compare} measured of one model against a base: its file, size, and the statistics.
 *
 * @param name            the file name, which a baseline's models are matched by
 * @param model           the file (the first shard of a split set)
 * @param bytes           bytes of the model's tensors
 * @param bitsPerWeight   8 * bytes over the number of weights
 * @param tokensPerSecond tokens the engine ran per second over the base's chunks
 * @param statistics      llama-perplexity's statistics of the model against the base
 */
public record ModelQuality(String name, String model, long bytes, double bitsPerWeight, double tokensPerSecond,
                           KldSummary statistics) {
}
