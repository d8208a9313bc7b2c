package glmj.testdata;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Deterministic random weights. Each tensor draws from its own stream, seeded from its name, so a tensor's values do
 * not depend on which other tensors exist or in what order they are made, and the F32 and quantized variants hold
 * the same underlying weights.
 */
final class Weights {
    private static final long BASE_SEED = 0x474C4D35_44534121L;
    private static final double SQRT_3 = Math.sqrt(3.0);

    /** How a tensor's values are distributed. */
    enum Init {
        /** Mean 0, standard deviation 1/sqrt(row length): a matrix keeps the scale of the vector it multiplies. */
        MATRIX,
        /** Mean 0, standard deviation 1: embeddings are RMS-normalized before use. */
        EMBEDDING,
        /** Mean 1, standard deviation 0.05: norm gains. */
        GAIN,
        /** Mean 0, standard deviation 0.02: biases, small against the values they shift. */
        BIAS
    }

    private Weights() {
    }

    /** A stream for tensor {@code name} of the test models (seed 0). */
    static SplittableRandom stream(String name) {
        return stream(name, 0);
    }

    /** A stream for {@code name} (a tensor, or a part of one) of the model with {@code seed}: FNV-1a over its UTF-8 bytes, mixed into both seeds. */
    static SplittableRandom stream(String name, long seed) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return new SplittableRandom(BASE_SEED ^ hash ^ seed);
    }

    /** The standard deviation of a tensor's values for rows of {@code rowLength}. */
    static double standardDeviation(Init init, long rowLength) {
        return switch (init) {
            case MATRIX -> 1.0 / Math.sqrt(rowLength);
            case EMBEDDING -> 1.0;
            case GAIN -> 0.05;
            case BIAS -> 0.02;
        };
    }

    /** Fills {@code out[0..count)} with the next {@code count} values of {@code random} for a tensor with rows of {@code rowLength}. */
    static void fill(SplittableRandom random, Init init, long rowLength, float[] out, int count) {
        double mean = switch (init) {
            case GAIN -> 1.0;
            case MATRIX, EMBEDDING, BIAS -> 0.0;
        };
        double std = standardDeviation(init, rowLength);
        for (int i = 0; i < count; i++) {
            out[i] = (float) (mean + std * nearNormal(random));
        }
    }

    /**
     * Mean 0, variance 1, bell-shaped with tails up to sqrt(12): the sum of four uniforms (Irwin-Hall), which needs
     * only exact arithmetic, so every JVM gives the same bits.
     */
    private static double nearNormal(SplittableRandom random) {
        double sum = random.nextDouble() + random.nextDouble() + random.nextDouble() + random.nextDouble();
        return (sum - 2.0) * SQRT_3;
    }
}
