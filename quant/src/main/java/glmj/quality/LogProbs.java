package glmj.quality;

import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.quantize.GgmlMath;

import java.lang.foreign.MemorySegment;

/**
 * One position's log-probabilities as llama-perplexity stores them in a KL-divergence base, and the comparison of a
 * model's logits with them, operation for operation as tools/perplexity/perplexity.cpp computes both (its two
 * {@code log_softmax} overloads that take {@code uint16_t} log-probabilities), in the same float and double types.
 *
 * <p>A record holds {@code scale} and {@code min_log_prob} as two floats, then per token
 * {@code q = round((logit - min) / scale)} as uint16, where {@code min} is the smallest logit but no lower than the
 * largest minus {@link #RANGE} and {@code scale = (max - min) / 65535}; token i's log-probability is then
 * {@code scale * q + min_log_prob}. Logits at or below {@code min} are stored as 0; q is rounded by
 * {@code nearest_int} ({@link GgmlMath#nearestInt}), ties to even.
 */
final class LogProbs {
    /** How far below the most likely token log-probabilities are kept (in nats), and the KLD's cut-off. */
    static final float RANGE = 16f;
    private static final float LEVELS = 65535f;
    private static final long VALUES = 2 * Float.BYTES;

    private LogProbs() {
    }

    /**
     * Writes the record of the {@code n} logits at {@code logits[offset]} into {@code record} and returns the negative
     * log-likelihood of {@code token}, as llama.cpp's {@code log_softmax(n_vocab, logits, log_prob, tok)}.
     */
    static float encode(float[] logits, int offset, int n, int token, MemorySegment record) {
        float max = logits[offset];
        float min = logits[offset];
        for (int i = 1; i < n; i++) {
            max = Math.max(max, logits[offset + i]);
            min = Math.min(min, logits[offset + i]);
        }
        min = Math.max(min, max - RANGE);
        float logSumExp = logSumExp(logits, offset, n, max);
        float minLogProb = min - max - logSumExp;
        float scale = (max - min) / LEVELS;
        record.set(LittleEndian.FLOAT, 0, scale);
        record.set(LittleEndian.FLOAT, Float.BYTES, minLogProb);
        if (scale != 0) {
            float inverse = 1 / scale;
            for (int i = 0; i < n; i++) {
                float logit = logits[offset + i];
                int q = logit > min ? GgmlMath.nearestInt(inverse * (logit - min)) : 0;
                record.set(LittleEndian.SHORT, valueOffset(i), (short) q);
            }
        } else {
            record.asSlice(VALUES, 2L * n).fill((byte) 0);
        }
        return max + logSumExp - logits[offset + token];
    }

    /** Token {@code token}'s stored log-probability in {@code record}. */
    static float logProb(MemorySegment record, int token) {
        return logProb(record.get(LittleEndian.FLOAT, 0), record.get(LittleEndian.FLOAT, Float.BYTES),
                LittleEndian.u16(record, valueOffset(token)));
    }

    /** A stored log-probability: the record's scale and minimum, and the token's uint16. */
    static float logProb(float scale, float minLogProb, int q) {
        return scale * q + minLogProb;
    }

    /** Where token {@code token}'s uint16 lies in a record. */
    static long valueOffset(int token) {
        return VALUES + 2L * token;
    }

    /**
     * Compares the {@code n} logits at {@code logits[offset]} with the stored log-probabilities {@code base} of the
     * same position, whose next token is {@code token}, into row {@code row} of {@code scores}: as llama.cpp's
     * {@code log_softmax(n_vocab, logits, base_log_prob, tok, kld)}. The KL divergence sums over the tokens whose base
     * log-probability is above {@code -RANGE}; top tokens are the first of equal maxima on both sides.
     */
    static void compare(float[] logits, int offset, int n, int token, MemorySegment base, TokenScores scores, int row) {
        float max = logits[offset];
        int top = 0;
        for (int i = 1; i < n; i++) {
            if (logits[offset + i] > max) {
                max = logits[offset + i];
                top = i;
            }
        }
        float logSumExp = logSumExp(logits, offset, n, max);
        float scale = base.get(LittleEndian.FLOAT, 0);
        float minLogProb = base.get(LittleEndian.FLOAT, Float.BYTES);
        float nll = max + logSumExp - logits[offset + token];
        float nllBase = -logProb(scale, minLogProb, LittleEndian.u16(base, valueOffset(token)));
        float logNorm = max + logSumExp;
        double kld = 0;
        int topBase = -1;
        float topBaseLogProb = 0;
        for (int i = 0; i < n; i++) {
            float logProbBase = logProb(scale, minLogProb, LittleEndian.u16(base, valueOffset(i)));
            if (i == 0 || logProbBase > topBaseLogProb) {
                topBaseLogProb = logProbBase;
                topBase = i;
            }
            if (logProbBase > -RANGE) {
                float pBase = (float) Math.exp(logProbBase);
                kld += pBase * (logProbBase - logits[offset + i] + logNorm);
            }
        }
        scores.nll[row] = nll;
        scores.nllBase[row] = nllBase;
        scores.kld[row] = kld;
        scores.sameTop[row] = top == topBase;
        scores.pDiff[row] = (float) Math.exp(-nll) - (float) Math.exp(-nllBase);
    }

    /** {@code log(sum exp(logit - max))}: expf of each in float, summed in double, its log rounded to float. */
    private static float logSumExp(float[] logits, int offset, int n, float max) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (float) Math.exp(logits[offset + i] - max);
        }
        return (float) Math.log(sum);
    }
}
