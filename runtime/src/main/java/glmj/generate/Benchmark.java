package glmj.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Prompt-processing and generation speed of a {@link LanguageModel}, measured as llama-bench measures them: one
 * warm-up, then each repetition starts from an empty context and times {@code n} random tokens, processed as one
 * prompt ({@code pp}) or one token per step ({@code tg}); the figure is the mean and standard deviation of the
 * repetitions' tokens per second.
 */
public final class Benchmark {
    private final LanguageModel model;
    private final int firstToken;
    private final SplittableRandom random = new SplittableRandom(42);

    /** {@code firstToken} starts every run, as the BOS token starts llama-bench's; -1 when the model adds none. */
    public Benchmark(LanguageModel model, int firstToken) {
        this.model = model;
        this.firstToken = firstToken;
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
        int[] prompt = randomTokens(tokens);
        runPrompt(prompt);
        double[] speeds = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            prompt = randomTokens(tokens);
            long start = System.nanoTime();
            runPrompt(prompt);
            speeds[r] = tokens * 1e9 / (System.nanoTime() - start);
        }
        return new Result("pp" + tokens, tokens, speeds);
    }

    public Result generation(int tokens, int repetitions) {
        runGeneration(randomTokens(1));
        double[] speeds = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            int[] steps = randomTokens(tokens);
            long start = System.nanoTime();
            runGeneration(steps);
            speeds[r] = tokens * 1e9 / (System.nanoTime() - start);
        }
        return new Result("tg" + tokens, tokens, speeds);
    }

    private void runPrompt(int[] prompt) {
        model.truncate(0);
        model.forward(prompt, 0, prompt.length);
    }

    private void runGeneration(int[] steps) {
        model.truncate(0);
        for (int i = 0; i < steps.length; i++) {
            model.forward(steps, i, 1);
        }
    }

    private int[] randomTokens(int count) {
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = i == 0 && firstToken >= 0 ? firstToken : random.nextInt(model.vocabularySize());
        }
        return tokens;
    }
}
