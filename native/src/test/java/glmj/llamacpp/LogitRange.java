package glmj.llamacpp;

import glmj.testdata.TinyGlmDsa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The range of a token's logits, once they are checked to be a whole vocabulary's, finite and not all equal. */
record LogitRange(float min, float max) {

    static LogitRange of(float[] logits) {
        assertEquals(TinyGlmDsa.vocabularySize(), logits.length);
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            assertTrue(Float.isFinite(v), "non-finite logit " + v);
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(max - min > 1e-3f, "logits all equal to " + min);
        return new LogitRange(min, max);
    }
}
