package glmj.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** MoE routing on hand-built cases whose results follow from the definition. */
class ExpertRouterTest {

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void biasChoosesButWeightsAreTheUnbiasedNormalizedScaledProbabilities() {
        // unbiased, experts 0 and 1 would win; the bias lifts expert 3 above expert 1
        float[] logits = {2.0f, 1.0f, -1.0f, 0.5f};
        float[] bias = {0f, 0f, 0f, 0.3f};
        ExpertRouter router = new ExpertRouter(4, true, true, 2.5f, 0, 0);
        int[] chosen = new int[2];
        float[] weights = new float[2];
        router.route(logits, 0, bias, 2, chosen, weights);
        int[] sorted = chosen.clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[]{0, 3}, sorted);
        double p0 = sigmoid(2.0), p3 = sigmoid(0.5);
        for (int i = 0; i < 2; i++) {
            double p = chosen[i] == 0 ? p0 : p3;
            assertEquals(2.5 * p / (p0 + p3), weights[i], 1e-6, "weight of expert " + chosen[i]);
        }
        assertEquals(2.5, weights[0] + weights[1], 1e-6);
    }

    @Test
    void chosenExpertsComeBestRankedFirstAsGgmlsArgsortLeavesThem() {
        // llama.cpp adds the experts' weighted outputs in this order, so it decides their rounding
        float[] logits = {0.1f, 2.0f, -1.0f, 1.5f, 3.0f, -0.5f, 0.7f, 2.5f};
        float[] bias = {0f, 0f, 0f, 1.2f, 0f, 0f, 0f, 0f};
        ExpertRouter router = new ExpertRouter(8, true, true, 1.0f, 0, 0);
        int[] chosen = new int[4];
        router.route(logits, 0, bias, 4, chosen, new float[4]);
        // selection scores: expert 3 sigmoid(1.5) + 1.2 first, then 4, 7, 1 by their probabilities
        assertArrayEquals(new int[]{3, 4, 7, 1}, chosen);
    }

    @Test
    void withoutNormalizationOrScaleTheWeightsAreTheProbabilities() {
        float[] logits = {0f, 3f, 1f};
        ExpertRouter router = new ExpertRouter(3, true, false, 1.0f, 0, 0);
        int[] chosen = new int[1];
        float[] weights = new float[1];
        router.route(logits, 0, null, 1, chosen, weights);
        assertEquals(1, chosen[0]);
        assertEquals(sigmoid(3), weights[0], 1e-6);
    }

    @Test
    void softmaxGatingNormalizesOverAllExperts() {
        float[] logits = {1f, 2f, 3f};
        ExpertRouter router = new ExpertRouter(3, false, false, 0f, 0, 0);
        int[] chosen = new int[1];
        float[] weights = new float[1];
        router.route(logits, 0, null, 1, chosen, weights);
        assertEquals(2, chosen[0]);
        assertEquals(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)), weights[0], 1e-6);
    }

    @Test
    void groupsScoredByTheirTwoBestExpertsLimitTheChoice() {
        // group 0 = experts 0..2 holds the single best expert, but group 1 (3..5) has the better top-two sum
        float[] logits = {4f, -4f, -4f, 2f, 2f, -4f};
        ExpertRouter router = new ExpertRouter(6, true, false, 0f, 2, 1);
        int[] chosen = new int[2];
        float[] weights = new float[2];
        router.route(logits, 0, null, 2, chosen, weights);
        int[] sorted = chosen.clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[]{3, 4}, sorted);
    }
}
