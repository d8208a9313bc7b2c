package glmj.quality;

import glmj.generate.ChunkLogits;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;

/**
 * Runs an engine over the chunks of a corpus and writes what it predicts at every scored position into a
 * KL-divergence base, as {@code llama-perplexity --kl-divergence-base} does, with the perplexity it prints at the end.
 */
public final class ReferenceRun {
    private final KldBaseWriter writer;
    private final int[] targets;
    private final KldLayout layout;
    private MemorySegment[] records = new MemorySegment[0];
    private double nll;
    private double nll2;
    private long counted;

    private ReferenceRun(KldBaseWriter writer, int[] tokens) {
        this.writer = writer;
        this.layout = writer.layout();
        this.targets = tokens;
    }

    /** What a reference run measured: the model's perplexity over the scored positions, and its speed. */
    public record Result(int chunks, long scoredTokens, double ppl, double pplUncertainty, int chunksRun,
                         long tokensRun, double seconds) {
        /** Tokens the engine ran per second of this run (resumed chunks not counted). */
        public double tokensPerSecond() {
            return seconds > 0 ? tokensRun / seconds : 0;
        }
    }

    /**
     * Runs {@code engine} over the chunks {@code writer} still lacks and finishes the file. {@code tokens} are the
     * corpus's tokens as the file stores them, {@code evaluationTokens} those the engine runs (see
     * {@link Corpus#evaluationTokens}). The perplexity covers every chunk; those a resumed run found done count with
     * their stored log-probabilities.
     */
    public static Result run(ChunkLogits engine, KldBaseWriter writer, int[] tokens, int[] evaluationTokens,
                             int threads, Progress progress) throws IOException {
        KldLayout layout = writer.layout();
        if (engine.vocabularySize() != layout.vocabularySize() || engine.chunkLength() != layout.contextSize()) {
            throw new IllegalArgumentException("the engine runs chunks of " + engine.chunkLength() + " over "
                    + engine.vocabularySize() + " tokens, the base is for " + layout.contextSize() + " over "
                    + layout.vocabularySize());
        }
        ReferenceRun run = new ReferenceRun(writer, tokens);
        for (int chunk = 0; chunk < writer.chunksBefore(); chunk++) {
            for (int scored = 0; scored < layout.scoredPerChunk(); scored++) {
                run.count(-writer.storedLogProb(chunk, scored, run.target(chunk, scored)));
            }
        }
        long start = System.nanoTime();
        int chunksRun = 0;
        try (RowWorkers workers = new RowWorkers(threads)) {
            progress.chunks(writer.chunksDone(), layout.chunkCount());
            for (int chunk = writer.chunksBefore(); chunk < layout.chunkCount(); ) {
                int chunks = Math.min(engine.chunksPerPass(), layout.chunkCount() - chunk);
                int passStart = chunk;
                try {
                    engine.evaluate(evaluationTokens, chunk * layout.contextSize(), chunks, layout.firstScored(),
                            (c, position, count, logits, offset) -> run.store(workers, passStart + c, position, count, logits, offset));
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
                chunk += chunks;
                chunksRun += chunks;
                progress.chunks(chunk, layout.chunkCount());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        writer.finish();
        double mean = run.nll / run.counted;
        double variance = run.nll2 / run.counted - mean * mean;
        double ppl = Math.exp(mean);
        double uncertainty = variance > 0 ? Math.sqrt(variance / (run.counted - 1)) * ppl : 0;
        return new Result(layout.chunkCount(), run.counted, ppl, uncertainty, chunksRun,
                (long) chunksRun * layout.contextSize(), seconds);
    }

    /** The token scored position {@code scored} of chunk {@code chunk} predicts. */
    private int target(int chunk, int scored) {
        return targets[chunk * layout.contextSize() + layout.firstScored() + scored + 1];
    }

    /** Encodes the scored rows among positions {@code [position, position + count)} of a chunk and appends them. */
    private void store(RowWorkers workers, int chunk, int position, int count, float[] logits, int offset) {
        int rows = Math.min(count, layout.contextSize() - 1 - position);
        if (rows <= 0) {
            return;
        }
        if (records.length < rows) {
            records = new MemorySegment[rows];
            for (int r = 0; r < rows; r++) {
                records[r] = MemorySegment.ofArray(new byte[(int) layout.recordBytes()]);
            }
        }
        float[] rowNll = new float[rows];
        int n = layout.vocabularySize();
        int firstScored = position - layout.firstScored();
        workers.forEach(rows, r -> rowNll[r] = LogProbs.encode(logits, offset + r * n, n,
                target(chunk, firstScored + r), records[r]));
        try {
            for (int r = 0; r < rows; r++) {
                if (writer.nextRecord() != (long) chunk * layout.scoredPerChunk() + firstScored + r) {
                    throw new IllegalStateException("the engine handed over chunk " + chunk + " position " + (position + r)
                            + " out of order");
                }
                writer.write(records[r]);
                count(rowNll[r]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void count(float value) {
        nll += value;
        nll2 += (double) value * value;
        counted++;
    }
}
