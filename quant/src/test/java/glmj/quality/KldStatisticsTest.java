package glmj.quality;

import glmj.quality.KldStatistics.Percentiles;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KldStatisticsTest {

    @Test
    void percentilesInterpolateAsLlamaPerplexity() {
        float[] sorted = new float[10];
        for (int i = 0; i < 10; i++) {
            sorted[i] = i + 1;
        }
        Percentiles p = Percentiles.of(sorted);
        assertEquals(10f, p.max());
        assertEquals(1f, p.min());
        assertEquals(5.5f, p.median(), "the mean of the middle two");
        assertEquals(0.1f * 9 + 1 + 0f, p.p10(), 1e-6, "at fraction * (n - 1) = 0.9: 1 + 0.9");
        assertEquals(9.1f, p.p90(), 1e-5);
        assertEquals(9.991f, p.p99_9(), 1e-5);
        assertEquals(1.009f, p.p0_1(), 1e-5);
        assertEquals(3f, Percentiles.of(new float[] {1, 3, 7}).median(), "an odd count: the middle one");
    }

    @Test
    void uncertaintiesNeedMoreThanTenValues() {
        KldStatistics ten = new KldStatistics();
        KldStatistics eleven = new KldStatistics();
        for (int i = 0; i < 11; i++) {
            if (i < 10) {
                ten.add(1 + i % 3, 2, 0.1 * i, 0.01f * i, i % 2 == 0);
            }
            eleven.add(1 + i % 3, 2, 0.1 * i, 0.01f * i, i % 2 == 0);
        }
        assertEquals(0, ten.summary().kld().uncertainty());
        assertEquals(0, ten.summary().ppl().uncertainty());
        KldSummary s = eleven.summary();
        double mean = 0.5, sum2 = 0;
        for (int i = 0; i < 11; i++) {
            sum2 += 0.1 * i * 0.1 * i;
        }
        assertEquals(mean, s.kld().value(), 1e-12);
        assertEquals(Math.sqrt((sum2 / 11 - mean * mean) / 10), s.kld().uncertainty(), 1e-12);
        assertEquals(6.0 / 11, s.sameTop().value(), 1e-12);
        assertEquals(Math.sqrt(6.0 / 11 * 5.0 / 11 / 10), s.sameTop().uncertainty(), 1e-12, "binomial");
        assertEquals(0, s.pplBase().uncertainty(), "a constant has no spread");
        assertEquals(Math.exp(2), s.pplBase().value(), 1e-9);
    }

    @Test
    void aModelComparedWithItsOwnBaseDiffersOnlyByTheStorage() {
        float[] logits = logits(200, 0);
        KldStatistics same = compare(logits, logits);
        KldSummary s = same.summary();
        assertTrue(Math.abs(s.kld().value()) < 1e-6, "KLD " + s.kld());
        assertEquals(1.0, s.sameTop().value());
        assertEquals(s.pplBase().value(), s.ppl().value(), 1e-3 * s.ppl().value());
        assertTrue(s.probabilityDeltaRms().value() < 1e-4);
        assertTrue(s.lnPplCorrelation() > 0.999, "correlation " + s.lnPplCorrelation());
    }

    @Test
    void klDivergenceIsTheSumOverTheBasesDistribution() {
        int vocab = 6;
        float[] base = logits(1, 1);
        float[] model = logits(1, 2);
        double kld = 0;
        double zp = 0, zq = 0;
        for (int i = 0; i < vocab; i++) {
            zp += Math.exp(base[i]);
            zq += Math.exp(model[i]);
        }
        for (int i = 0; i < vocab; i++) {
            double p = Math.exp(base[i]) / zp, q = Math.exp(model[i]) / zq;
            kld += p * Math.log(p / q);
        }
        KldSummary s = compare(base, model).summary();
        assertEquals(kld, s.kld().value(), 2e-4, "within the uint16 storage's half step");
        double pModel = Math.exp(model[3]) / zq, pBase = Math.exp(base[3]) / zp;
        assertEquals(pModel - pBase, s.probabilityDelta().value(), 1e-4, "delta-p of the next token (3)");
        assertEquals(Math.log(zq) - model[3] - (Math.log(zp) - base[3]), s.lnPplRatio().value(), 1e-4);
    }

    @Test
    void topTokensAreTheFirstOfEqualMaxima() {
        float[] base = {0, 5, 5, 1, 0, 0};
        float[] tiedLater = {0, 4, 6, 1, 0, 0};
        float[] tiedFirst = {0, 6, 6, 1, 0, 0};
        assertFalse(compare(base, tiedLater).summary().sameTop().value() > 0);
        assertEquals(1.0, compare(base, tiedFirst).summary().sameTop().value());
    }

    /** Positions of 6 logits each, row after row; position t predicts token 3. */
    private static float[] logits(int positions, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] logits = new float[6 * positions];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (3 * random.nextGaussian());
        }
        return logits;
    }

    /** The statistics of {@code model}'s rows against {@code base}'s stored as a base. */
    private static KldStatistics compare(float[] base, float[] model) {
        int vocab = 6, rows = base.length / vocab;
        KldLayout layout = new KldLayout(8, vocab, 1);
        KldStatistics statistics = new KldStatistics();
        TokenScores scores = new TokenScores();
        scores.ensure(1);
        for (int r = 0; r < rows; r++) {
            MemorySegment record = MemorySegment.ofArray(new byte[(int) layout.recordBytes()]);
            LogProbs.encode(base, r * vocab, vocab, 3, record);
            LogProbs.compare(model, r * vocab, vocab, 3, record, scores, 0);
            statistics.add(scores, 1);
        }
        return statistics;
    }
}
