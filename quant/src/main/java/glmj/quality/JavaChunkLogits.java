package glmj.quality;

import glmj.gguf.GGUFFile;
import glmj.kernel.Kernels;
import glmj.model.GlmDsa;

/**
 * glmj's own engine ({@link GlmDsa}) for quality runs: each chunk from an empty cache, in batches of up to the batch
 * size, the logits of a batch's wanted positions computed in one matmul with the output head (and, in the last layer,
 * only their rows carried on, as llama.cpp does).
 */
public final class JavaChunkLogits implements ChunkLogits {
    private final GGUFFile file;
    private final Kernels kernels;
    private final GlmDsa model;
    private final int chunkLength;
    private final int batchSize;
    /** The logits of a batch's wanted rows, sized by the most a batch can want. */
    private float[] logits = new float[0];

    /** Runs {@code file} on {@code kernels} (both taken over and closed with this) in batches of {@code batchSize}. */
    public JavaChunkLogits(GGUFFile file, Kernels kernels, int chunkLength, int batchSize) {
        this.file = file;
        this.kernels = kernels;
        this.chunkLength = chunkLength;
        this.batchSize = Math.min(batchSize, chunkLength);
        this.model = new GlmDsa(file, chunkLength, this.batchSize, kernels);
    }

    @Override
    public int vocabularySize() {
        return model.config().vocabularySize();
    }

    @Override
    public int chunkLength() {
        return chunkLength;
    }

    @Override
    public int chunksPerPass() {
        return 1;
    }

    @Override
    public void evaluate(int[] tokens, int offset, int chunks, int firstOutput, Sink sink) {
        int rows = Math.min(batchSize, chunkLength - firstOutput);
        if (logits.length < rows * vocabularySize()) {
            logits = new float[rows * vocabularySize()];
        }
        for (int chunk = 0; chunk < chunks; chunk++) {
            model.truncate(0);
            int start = offset + chunk * chunkLength;
            for (int from = 0; from < chunkLength; from += batchSize) {
                int count = Math.min(batchSize, chunkLength - from);
                int first = Math.max(0, firstOutput - from);
                if (first >= count) {
                    model.forward(tokens, start + from, count, logits, count - 1, null); // no logits wanted here
                    continue;
                }
                model.forward(tokens, start + from, count, logits, first, null);
                sink.accept(chunk, from + first, count - first, logits, 0);
            }
        }
    }

    @Override
    public void close() {
        kernels.close();
        file.close();
    }
}
