package glmj.generate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchmarkTest {

    /** Records every call, as "truncate P", "forward N at P" or "copy P": the tokens forwarded in {@code tokens}. */
    private static final class RecordingModel implements Session {
        final List<String> calls = new ArrayList<>();
        final List<Integer> tokens = new ArrayList<>();
        private final int vocabularySize;
        private int position;

        RecordingModel() {
            this(100);
        }

        RecordingModel(int vocabularySize) {
            this.vocabularySize = vocabularySize;
        }

        @Override
        public int vocabularySize() {
            return vocabularySize;
        }

        @Override
        public int contextSize() {
            return 1000;
        }

        @Override
        public int position() {
            return position;
        }

        @Override
        public float[] forward(int[] tokens, int offset, int count, Processing how) {
            calls.add("forward " + count + " at " + position);
            for (int i = offset; i < offset + count; i++) {
                this.tokens.add(tokens[i]);
            }
            position += count;
            how.progress().accept(count);
            return new float[vocabularySize()];
        }

        @Override
        public void truncate(int newPosition) {
            calls.add("truncate " + newPosition);
            position = newPosition;
        }

        @Override
        public void copyContextFrom(Session source) {
            calls.add("copy " + source.position());
            position = source.position();
        }

        @Override
        public int keepCommonPrefix(int[] tokens) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    @Test
    void depthIsFilledOnceAndEveryRunStartsAtIt() {
        RecordingModel model = new RecordingModel();
        Benchmark benchmark = new Benchmark(model, 1, 300, Duration.ZERO);

        Benchmark.Result pp = benchmark.promptProcessing(16, 2);
        Benchmark.Result tg = benchmark.generation(2, 1);

        assertEquals("pp16 @ d300", pp.test());
        assertEquals("tg2 @ d300", tg.test());
        assertEquals(List.of(
                "truncate 0", "forward 300 at 0",
                "truncate 300", "forward 16 at 300",                             // pp warm-up
                "truncate 300", "forward 16 at 300",
                "truncate 300", "forward 16 at 300",
                "truncate 300", "forward 1 at 300", "forward 1 at 301",          // tg warm-up
                "truncate 300", "forward 1 at 300", "forward 1 at 301"), model.calls);
    }

    @Test
    void depthFilledAheadReportsProgressAndIsNotFilledAgain() {
        RecordingModel model = new RecordingModel();
        Benchmark benchmark = new Benchmark(model, 1, 300, Duration.ZERO);
        List<Integer> done = new ArrayList<>();

        benchmark.fillDepth(done::add);
        benchmark.generation(1, 1);

        assertEquals(List.of(300), done);
        assertEquals(List.of(
                "truncate 0", "forward 300 at 0",
                "truncate 300", "forward 1 at 300",
                "truncate 300", "forward 1 at 300"), model.calls);
    }

    @Test
    void aFillerFillsTheDepthWithItsOwnTokensAndTheModelTakesItsContext() {
        RecordingModel model = new RecordingModel();
        RecordingModel filler = new RecordingModel(7);
        Benchmark benchmark = new Benchmark(model, 1, 300, Duration.ZERO);
        List<Integer> done = new ArrayList<>();

        benchmark.fillDepth(filler, done::add);
        benchmark.generation(1, 1);

        assertEquals(List.of("truncate 0", "forward 300 at 0"), filler.calls);
        assertEquals(1, filler.tokens.getFirst());
        assertTrue(filler.tokens.stream().allMatch(token -> token >= 0 && token < 7), "tokens of the filler's vocabulary");
        assertEquals(List.of(300), done);
        assertEquals(List.of(
                "copy 300",
                "truncate 300", "forward 1 at 300",
                "truncate 300", "forward 1 at 300"), model.calls);
    }

    @Test
    void withoutDepthEveryRunStartsFromAnEmptyContext() {
        RecordingModel model = new RecordingModel();
        Benchmark.Result tg = new Benchmark(model, -1, 0, Duration.ZERO).generation(3, 1);

        assertEquals("tg3", tg.test());
        assertEquals(List.of("truncate 0", "forward 1 at 0", "forward 1 at 1", "forward 1 at 2",
                "truncate 0", "forward 1 at 0", "forward 1 at 1", "forward 1 at 2"), model.calls);
    }
}
