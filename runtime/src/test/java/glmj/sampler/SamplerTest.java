package glmj.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final SamplerSettings NO_FILTERS = new SamplerSettings(1f, 0, 1f, 0f, 1f, 0f, 0f, 64, 7);

    private static SamplerSettings settings(float temperature, int topK, float topP, float minP) {
        return new SamplerSettings(temperature, topK, topP, minP, 1f, 0f, 0f, 64, 7);
    }

    /** Every token the sampler ever picks from these logits over many draws. */
    private static Set<Integer> support(SamplerSettings settings, float[] logits) {
        Sampler sampler = new Sampler(settings, logits.length);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 4000; i++) {
            seen.add(sampler.sample(logits.clone()));
        }
        return seen;
    }

    @Test
    void greedyIsTheArgmax() {
        float[] logits = {0.1f, 2.5f, -1f, 2.4f};
        assertEquals(1, new Sampler(SamplerSettings.greedy(), 4).sample(logits));
    }

    @Test
    void topKKeepsTheKBest() {
        float[] logits = {1f, 5f, 3f, 4f, 2f, 0f};
        assertEquals(Set.of(1, 3), support(settings(1f, 2, 1f, 0f), logits));
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        // probabilities 0.5, 0.25, 0.125, 0.125: the first two reach 0.75
        float ln2 = (float) Math.log(2);
        float[] logits = {3 * ln2, 2 * ln2, ln2, ln2};
        assertEquals(Set.of(0, 1), support(settings(1f, 0, 0.75f, 0f), logits));
        assertEquals(Set.of(0, 1, 2), support(settings(1f, 0, 0.76f, 0f), logits));
    }

    @Test
    void minPKeepsTokensAtLeastThatFractionOfTheBest() {
        float ln2 = (float) Math.log(2);
        float[] logits = {3 * ln2, 2 * ln2, ln2, 0};
        // relative probabilities 1, 1/2, 1/4, 1/8
        assertEquals(Set.of(0, 1, 2), support(settings(1f, 0, 1f, 0.25f), logits));
        assertEquals(Set.of(0), support(settings(1f, 0, 1f, 0.6f), logits));
    }

    @Test
    void drawsFollowTheSoftmaxAtTheTemperature() {
        float[] logits = {0f, (float) Math.log(3)};
        Sampler sampler = new Sampler(NO_FILTERS, 2);
        int ones = 0;
        int draws = 20_000;
        for (int i = 0; i < draws; i++) {
            ones += sampler.sample(logits.clone());
        }
        // p(1) = 3/4; the binomial standard deviation over 20,000 draws is about 0.003
        assertEquals(0.75, ones / (double) draws, 0.015);

        Sampler hot = new Sampler(NO_FILTERS.withTemperature(2f), 2);
        int hotOnes = 0;
        for (int i = 0; i < draws; i++) {
            hotOnes += hot.sample(logits.clone());
        }
        // at temperature 2, p(1) = sqrt(3) / (1 + sqrt(3)) = 0.634
        assertEquals(Math.sqrt(3) / (1 + Math.sqrt(3)), hotOnes / (double) draws, 0.015);
    }

    @Test
    void theSameSeedRepeatsTheSameTokens() {
        float[] logits = new float[500];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(i * 0.7) * 3;
        }
        int[] first = run(SamplerSettings.DEFAULTS.withSeed(42), logits);
        assertArrayEquals(first, run(SamplerSettings.DEFAULTS.withSeed(42), logits));
        assertNotEquals(Arrays.toString(first), Arrays.toString(run(SamplerSettings.DEFAULTS.withSeed(43), logits)));
    }

    private static int[] run(SamplerSettings settings, float[] logits) {
        Sampler sampler = new Sampler(settings, logits.length);
        int[] tokens = new int[50];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = sampler.sample(logits.clone());
            sampler.accept(tokens[i]);
        }
        return tokens;
    }

    @Test
    void penaltiesChangeOnlyRecentTokensByLlamaCppsFormula() {
        SamplerSettings penalizing = new SamplerSettings(0f, 0, 1f, 0f, 2f, 0.5f, 0.25f, 3, 1);
        Sampler sampler = new Sampler(penalizing, 5);
        for (int token : new int[] {4, 1, 1, 3}) {
            sampler.accept(token);
        }
        // the window of 3 holds 1, 1, 3: token 4 has left it
        float[] logits = {1f, 4f, 1f, -2f, 5f};
        sampler.sample(logits);
        assertEquals(4f / 2 - 2 * 0.5f - 0.25f, logits[1], 1e-6);
        assertEquals(-2f * 2 - 0.5f - 0.25f, logits[3], 1e-6);
        assertEquals(5f, logits[4]);
        assertEquals(1f, logits[0]);
        assertEquals(1f, logits[2]);
    }

    @Test
    void penaltiesCanChangeTheGreedyChoice() {
        SamplerSettings penalizing = new SamplerSettings(0f, 0, 1f, 0f, 1.5f, 0f, 0f, 8, 1);
        Sampler sampler = new Sampler(penalizing, 3);
        float[] logits = {1f, 1.2f, 0f};
        assertEquals(1, sampler.sample(logits.clone()));
        sampler.accept(1);
        assertEquals(0, sampler.sample(logits.clone()));
        sampler.reset();
        assertEquals(1, sampler.sample(logits.clone()));
    }
}
