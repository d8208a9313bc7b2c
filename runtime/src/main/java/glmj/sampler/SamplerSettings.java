package glmj.sampler;

/**
 * How the next token is chosen, with llama.cpp's defaults and meanings: {@code temperature <= 0} picks the most likely
 * token; {@code topK <= 0}, {@code topP >= 1}, {@code minP <= 0} switch those filters off; the penalties apply to the
 * last {@code penaltyLastN} tokens ({@code repeatPenalty == 1} and zero frequency/presence penalties switch them off).
 */
public record SamplerSettings(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repeatPenalty,
        float frequencyPenalty,
        float presencePenalty,
        int penaltyLastN,
        long seed) {

    public static final SamplerSettings DEFAULTS = new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1.0f, 0f, 0f, 64, 0);

    public static SamplerSettings greedy() {
        return DEFAULTS.withTemperature(0);
    }

    public SamplerSettings withTemperature(float value) {
        return new SamplerSettings(value, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerSettings withTopK(int value) {
        return new SamplerSettings(temperature, value, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerSettings withTopP(float value) {
        return new SamplerSettings(temperature, topK, value, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerSettings withMinP(float value) {
        return new SamplerSettings(temperature, topK, topP, value, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerSettings withRepeatPenalty(float value) {
        return new SamplerSettings(temperature, topK, topP, minP, value, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerSettings withFrequencyPenalty(float value) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, value, presencePenalty, penaltyLastN, seed);
    }

    public SamplerSettings withPresencePenalty(float value) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, frequencyPenalty, value, penaltyLastN, seed);
    }

    public SamplerSettings withPenaltyLastN(int value) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, value, seed);
    }

    public SamplerSettings withSeed(long value) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, value);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }
}
