package glmj.quality;

import glmj.generate.ChunkLogits;

import java.util.Arrays;

/**
 * A stand-in engine whose logits are a fixed function of a chunk's tokens up to each position, so runs can be repeated
 * and compared byte for byte; {@code shift} moves every logit of odd tokens, making a second, different model.
 */
final class FakeChunkLogits implements ChunkLogits {
    private final int vocabularySize;
    private final int chunkLength;
    private final int chunksPerPass;
    private final float shift;
    private final float[] rows;
    /** Positions handed over per sink call, to exercise runs of rows. */
    private static final int RUN = 3;

    FakeChunkLogits(int vocabularySize, int chunkLength, int chunksPerPass, float shift) {
        this.vocabularySize = vocabularySize;
        this.chunkLength = chunkLength;
        this.chunksPerPass = chunksPerPass;
        this.shift = shift;
        this.rows = new float[RUN * vocabularySize];
    }

    @Override
    public int vocabularySize() {
        return vocabularySize;
    }

    @Override
    public int chunkLength() {
        return chunkLength;
    }

    @Override
    public int chunksPerPass() {
        return chunksPerPass;
    }

    @Override
    public void evaluate(int[] tokens, int offset, int chunks, int firstOutput, Sink sink) {
        for (int chunk = 0; chunk < chunks; chunk++) {
            for (int from = firstOutput; from < chunkLength; from += RUN) {
                int count = Math.min(RUN, chunkLength - from);
                Arrays.fill(rows, 0);
                for (int r = 0; r < count; r++) {
                    int start = offset + chunk * chunkLength;
                    long context = 0;
                    for (int p = start; p <= start + from + r; p++) {
                        context = context * 31 + tokens[p];
                    }
                    for (int v = 0; v < vocabularySize; v++) {
                        rows[r * vocabularySize + v] = (float) (4 * Math.sin(0.37 * v + 0.011 * (context % 1000)))
                                + (v % 2 == 1 ? shift : 0);
                    }
                }
                sink.accept(chunk, from, count, rows, 0);
            }
        }
    }

    @Override
    public void close() {
    }
}
