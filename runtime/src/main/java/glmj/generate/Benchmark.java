package glmj.generate;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Prompt-processing and generation speed of a {@link Session}, measured as llama-bench measures them: one
 * warm-up, then each repetition starts from a context holding {@code depth} tokens (llama-bench's {@code -d}; 0 is an
 * empty context) and times {@code n} random tokens, processed as one prompt ({@code pp}) or one token per step
 * ({@code tg}); the figure is the mean and standard deviation of the repetitions' tokens per second. The depth tokens
 * are processed once, untimed, and every run goes back to them by forgetting what came after, as llama-bench restores
 * its saved depth state. Unlike llama-bench, whose warm-up is one run (for tg a single token), the warm-up repeats
 * whole runs for at least a given time: a Java engine is still being compiled by the JIT during its first seconds, and
 * a long-lived process (a chat, a batch) runs at the compiled speed. Both engines get the same warm-up.
 */
public final class Benchmark {
    private final Session model;
    private final int firstToken;
    private final int depth;
    private final long warmUpNanos;
    private final SplittableRandom random = new SplittableRandom(42);
    private boolean depthFilled;

    /**
     * {@code firstToken} starts every run and the depth tokens, as the BOS token starts llama-bench's; -1 when the
     * model adds none. {@code depth} tokens precede every timed run.
     */
    public Benchmark(Session model, int firstToken, int depth, Duration warmUp) {
        if (depth < 0) {
            throw new IllegalArgumentException("depth must be 0 or more, got " + depth);
        }
        this.model = model;
        this.firstToken = firstToken;
        this.depth = depth;
        this.warmUpNanos = warmUp.toNanos();
    }

    /** One test's repetitions, in tokens per second. */
    public record Result(String test, int tokens, double[] tokensPerSecond) {
        public double mean() {
            return Arrays.stream(tokensPerSecond).average().orElse(0);
        }

        /** The sample standard deviation, as llama-bench reports it (0 for a single repetition). */
        public double standardDeviation() {
            int n = tokensPerSecond.length;
            if (n < 2) {
                return 0;
            }
            double mean = mean();
            double squares = Arrays.stream(tokensPerSecond).map(v -> (v - mean) * (v - mean)).sum();
            return Math.sqrt(squares / (n - 1));
        }
    }

    public Result promptProcessing(int tokens, int repetitions) {
        fillDepth();
        long warmUpStart = System.nanoTime();
        do {
            runPrompt(randomTokens(tokens));
        } while (System.nanoTime() - warmUpStart < warmUpNanos);
        double[] speeds = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            int[] prompt = randomTokens(tokens);
            long start = System.nanoTime();
            runPrompt(prompt);
            speeds[r] = tokens * 1e9 / (System.nanoTime() - start);
        }
        return new Result(testName("pp", tokens), tokens, speeds);
    }

    public Result generation(int tokens, int repetitions) {
        fillDepth();
        long warmUpStart = System.nanoTime();
        do {
            runGeneration(randomTokens(tokens));
        } while (System.nanoTime() - warmUpStart < warmUpNanos);
        double[] speeds = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            int[] steps = randomTokens(tokens);
            long start = System.nanoTime();
            runGeneration(steps);
            speeds[r] = tokens * 1e9 / (System.nanoTime() - start);
        }
        return new Result(testName("tg", tokens), tokens, speeds);
    }

    /** llama-bench's name for a test: {@code pp512}, or {@code tg128 @ d4096} at a depth. */
    private String testName(String kind, int tokens) {
        return kind + tokens + (depth > 0 ? " @ d" + depth : "");
    }

    /**
     * Processes the depth tokens now, untimed, telling {@code progress} how many are done after each batch, instead of
     * before the first test; does nothing at depth 0 or once they are in.
     */
    public void fillDepth(IntConsumer progress) {
        fillDepth(model, progress);
    }

    /**
     * {@link #fillDepth(IntConsumer)} by {@code filler}, a session of the same engine on a model with the measured one's
     * cache layout but far cheaper per token, whose context then moves into the measured session
     * ({@link Session#copyContextFrom}): a great depth at the filler's speed. The tests then run over the filler's cached
     * keys, at the speed of the depth, not to the measured model's outputs.
     */
    public void fillDepth(Session filler, IntConsumer progress) {
        if (depth > 0 && !depthFilled) {
            filler.truncate(0);
            filler.forward(randomTokens(depth, filler.vocabularySize()), 0, depth, Processing.of(() -> false, progress));
            if (filler != model) {
                model.copyContextFrom(filler);
            }
            depthFilled = true;
        }
    }

    private void fillDepth() {
        fillDepth(done -> { });
    }

    private void runPrompt(int[] prompt) {
        model.truncate(depth);
        model.forward(prompt, 0, prompt.length);
    }

    private void runGeneration(int[] steps) {
        model.truncate(depth);
        for (int i = 0; i < steps.length; i++) {
            model.forward(steps, i, 1);
        }
    }

    private int[] randomTokens(int count) {
        return randomTokens(count, model.vocabularySize());
    }

    private int[] randomTokens(int count, int vocabularySize) {
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = i == 0 && firstToken >= 0 ? firstToken : random.nextInt(vocabularySize);
        }
        return tokens;
    }
}
