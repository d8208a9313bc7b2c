package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.engine.Engine;
import glmj.generate.Processing;
import glmj.generate.Session;
import glmj.model.GlmDsaEngine;
import glmj.testdata.TestModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every engine's sessions promise: every position's logits, cancellation between batches, progress, prefix reuse,
 * own caches, and contexts copied between sessions of models with one cache layout.
 */
class SessionTest {
    private static final int[] PROMPT = IntStream.range(0, 20).map(i -> 300 + 77 * i).toArray();

    private static Engine engine(String name) throws Exception {
        return engine(name, TestModels.tinyF32());
    }

    private static Engine engine(String name, Path model) throws Exception {
        return name.equals("java") ? GlmDsaEngine.open(model, 64, 8, 2) : new LlamaEngine(List.of(model), 64, 8, 2, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "llama"})
    void everyPositionsLogitsAreThoseOfThePromptsPrefixes(String name) throws Exception {
        Oracle.library();
        try (Engine engine = engine(name); Session whole = engine.newSession(); Session stepwise = engine.newSession()) {
            int vocab = whole.vocabularySize();
            float[] all = new float[PROMPT.length * vocab];
            AtomicInteger done = new AtomicInteger();
            float[] last = whole.forward(PROMPT, 0, PROMPT.length, new Processing(all, () -> false, done::set)).clone();
            assertEquals(PROMPT.length, done.get(), "progress after the last batch");
            assertArrayEquals(last, Arrays.copyOfRange(all, (PROMPT.length - 1) * vocab, PROMPT.length * vocab));
            for (int t = 0; t < PROMPT.length; t++) {
                float[] expected = stepwise.forward(PROMPT, t, 1);
                float[] actual = Arrays.copyOfRange(all, t * vocab, (t + 1) * vocab);
                for (int i = 0; i < vocab; i++) {
                    assertEquals(expected[i], actual[i], 0.02f, // batches and single tokens sum in other orders (GlmDsaMatchesLlamaTest)
                             name + ": position " + t + " logit " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "llama"})
    void cancellingKeepsTheBatchesDoneAndPrefixesAreReused(String name) throws Exception {
        Oracle.library();
        try (Engine engine = engine(name); Session session = engine.newSession()) {
            AtomicInteger done = new AtomicInteger();
            Processing stopAfterOneBatch = new Processing(null, () -> done.get() >= 8, done::set);
            assertThrows(CancellationException.class, () -> session.forward(PROMPT, 0, PROMPT.length, stopAfterOneBatch));
            assertEquals(8, session.position(), "the first batch stays, the rest is not processed");
            session.forward(PROMPT, 8, PROMPT.length - 8);
            int[] next = Arrays.copyOf(PROMPT, PROMPT.length + 3);
            next[5] = 1;
            assertEquals(5, session.keepCommonPrefix(next));
            assertEquals(5, session.position());
            session.forward(PROMPT, 5, PROMPT.length - 5);
            assertEquals(PROMPT.length - 1, session.keepCommonPrefix(PROMPT), "all but the last token, which gives the logits");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "llama"})
    void aCopiedContextContinuesAsTheOriginalButSharesNoPrefix(String name) throws Exception {
        Oracle.library();
        try (Engine engine = engine(name); Session original = engine.newSession(); Session copy = engine.newSession()) {
            original.forward(PROMPT, 0, PROMPT.length - 1);
            copy.forward(PROMPT, 0, 3);
            copy.copyContextFrom(original);
            assertEquals(PROMPT.length - 1, copy.position());
            float[] expected = original.forward(PROMPT, PROMPT.length - 1, 1).clone();
            assertArrayEquals(expected, copy.forward(PROMPT, PROMPT.length - 1, 1), name);
            assertEquals(0, copy.keepCommonPrefix(PROMPT), "the copied tokens are not known");
        }
    }

    /** The cache twin's context, filled through one head, moves into the full-width design's: the same cache layout. */
    @ParameterizedTest
    @ValueSource(strings = {"java", "llama"})
    void aNarrowModelFillsTheContextOfAWideOneOfTheSameCacheLayoutOnly(String name) throws Exception {
        Oracle.library();
        try (Engine twin = engine(name, TestModels.fullWidthMiniatureCacheTwin()); Engine wide = engine(name, TestModels.fullWidthMiniature());
             Engine tiny = engine(name); Session filler = twin.newSession(); Session measured = wide.newSession();
             Session other = tiny.newSession()) {
            filler.forward(PROMPT, 0, PROMPT.length);
            measured.copyContextFrom(filler);
            assertEquals(PROMPT.length, measured.position());
            float[] logits = measured.forward(PROMPT, 0, 1);
            assertTrue(IntStream.range(0, logits.length).allMatch(i -> Float.isFinite(logits[i])), name + ": logits after the copied context");
            assertEquals(PROMPT.length + 1, measured.position());
            assertThrows(IllegalArgumentException.class, () -> other.copyContextFrom(filler), name + ": the tiny model's cache is narrower");
            assertEquals(0, other.position());
        }
    }
}
