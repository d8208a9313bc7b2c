package glmj.quality;

import glmj.generate.ChunkLogits;

/**
 * Runs an engine over the chunks of a KL-divergence base and compares its logits with the stored ones at every scored
 * position, as {@code llama-perplexity --kl-divergence} does.
 */
public final class Comparison {
    private final KldBaseReader base;
    private final KldLayout layout;
    private final int[] tokens;
    private final KldStatistics statistics = new KldStatistics();
    private final TokenScores scores = new TokenScores();

    private Comparison(KldBaseReader base) {
        this.base = base;
        this.layout = base.layout();
        this.tokens = base.tokens();
    }

    /** What a comparison measured, and how fast the engine ran. */
    public record Result(KldStatistics statistics, long tokensRun, double seconds) {
        public double tokensPerSecond() {
            return seconds > 0 ? tokensRun / seconds : 0;
        }
    }

    /**
     * Runs {@code engine} over every chunk of {@code base}, with {@code evaluationTokens} (the base's tokens with the
     * engine's BOS put in, {@link Corpus#evaluationTokens}), scoring rows on {@code threads} threads.
     */
    public static Result run(ChunkLogits engine, KldBaseReader base, int[] evaluationTokens, int threads, Progress progress) {
        KldLayout layout = base.layout();
        if (engine.vocabularySize() != layout.vocabularySize()) {
            throw new IllegalArgumentException("the model has a vocabulary of " + engine.vocabularySize() + " tokens, "
                    + base.path() + " one of " + layout.vocabularySize());
        }
        if (engine.chunkLength() != layout.contextSize()) {
            throw new IllegalArgumentException("the engine runs chunks of " + engine.chunkLength() + " tokens, "
                    + base.path() + " holds chunks of " + layout.contextSize());
        }
        Comparison comparison = new Comparison(base);
        long start = System.nanoTime();
        try (RowWorkers workers = new RowWorkers(threads)) {
            progress.chunks(0, layout.chunkCount());
            for (int chunk = 0; chunk < layout.chunkCount(); ) {
                int chunks = Math.min(engine.chunksPerPass(), layout.chunkCount() - chunk);
                int passStart = chunk;
                engine.evaluate(evaluationTokens, chunk * layout.contextSize(), chunks, layout.firstScored(),
                        (c, position, count, logits, offset) -> comparison.score(workers, passStart + c, position, count, logits, offset));
                chunk += chunks;
                progress.chunks(chunk, layout.chunkCount());
            }
        }
        return new Result(comparison.statistics, (long) layout.chunkCount() * layout.contextSize(),
                (System.nanoTime() - start) / 1e9);
    }

    /** Compares the scored rows among positions {@code [position, position + count)} of a chunk with the base. */
    private void score(RowWorkers workers, int chunk, int position, int count, float[] logits, int offset) {
        int rows = Math.min(count, layout.contextSize() - 1 - position);
        if (rows <= 0) {
            return;
        }
        scores.ensure(rows);
        int n = layout.vocabularySize();
        int firstScored = position - layout.firstScored();
        int firstTarget = chunk * layout.contextSize() + position + 1;
        workers.forEach(rows, r -> LogProbs.compare(logits, offset + r * n, n, tokens[firstTarget + r],
                base.record(chunk, firstScored + r), scores, r));
        statistics.add(scores, rows);
    }
}
