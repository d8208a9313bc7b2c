package glmj.quality;

import java.nio.charset.StandardCharsets;

/**
 * The shape of llama.cpp's KL-divergence base file ({@code llama-perplexity --kl-divergence-base}, written by
 * {@code perplexity()} and read by {@code kl_divergence()} in tools/perplexity/perplexity.cpp): the magic
 * {@code _logits_}, then {@code n_ctx}, {@code n_vocab} and {@code n_chunk} as int32, then the {@code n_chunk * n_ctx}
 * tokens as int32, then per chunk one record per scored position. A chunk's positions from {@code n_ctx / 2} to
 * {@code n_ctx - 2} are scored (each predicts the next token, with at least half a context before it); a record is
 * {@link LogProbs}'s encoding of that position's log-probabilities. Everything is little-endian, as llama.cpp writes it
 * on the machines it runs on.
 */
public record KldLayout(int contextSize, int vocabularySize, int chunkCount) {
    static final byte[] MAGIC = "_logits_".getBytes(StandardCharsets.US_ASCII);

    public KldLayout {
        if (contextSize < 3 || vocabularySize < 1 || chunkCount < 1) {
            throw new IllegalArgumentException("a KL-divergence base needs n_ctx >= 3, n_vocab >= 1 and n_chunk >= 1, not "
                    + contextSize + ", " + vocabularySize + ", " + chunkCount);
        }
    }

    /** The first scored position of a chunk. */
    public int firstScored() {
        return contextSize / 2;
    }

    /** Scored positions per chunk: the second half, less the last position, whose next token is not in the chunk. */
    public int scoredPerChunk() {
        return contextSize - 1 - contextSize / 2;
    }

    /** Scored positions in the whole file. */
    public long scoredTokens() {
        return (long) scoredPerChunk() * chunkCount;
    }

    /** uint16 values per record: two floats (scale, minimum log-probability), then one per token, padded to even. */
    public int recordShorts() {
        return 2 * ((vocabularySize + 1) / 2) + 4;
    }

    public long recordBytes() {
        return 2L * recordShorts();
    }

    /** Bytes before the first record: magic, the three sizes, the tokens. */
    public long headerBytes() {
        return MAGIC.length + 3L * Integer.BYTES + (long) Integer.BYTES * contextSize * chunkCount;
    }

    public long chunkBytes() {
        return scoredPerChunk() * recordBytes();
    }

    /** The size of a complete file. */
    public long fileBytes() {
        return headerBytes() + chunkCount * chunkBytes();
    }

    /** Where the record of scored position {@code scored} (0 for {@link #firstScored}) of chunk {@code chunk} begins. */
    public long recordOffset(int chunk, int scored) {
        return headerBytes() + chunk * chunkBytes() + scored * recordBytes();
    }
}
