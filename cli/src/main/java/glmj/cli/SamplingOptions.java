package glmj.cli;

import glmj.sampler.SamplerSettings;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Option;

/** How tokens are chosen: llama.cpp's sampling options with its names and defaults. */
final class SamplingOptions {
    private static final SamplerSettings DEFAULTS = SamplerSettings.DEFAULTS;

    @Option(names = "--temp", paramLabel = "T", description = "Temperature; 0 always takes the most likely token (default: ${DEFAULT-VALUE}).")
    float temperature = DEFAULTS.temperature();

    @Option(names = "--top-k", paramLabel = "N", description = "Keep the N most likely tokens; 0 keeps all (default: ${DEFAULT-VALUE}).")
    int topK = DEFAULTS.topK();

    @Option(names = "--top-p", paramLabel = "P", description = "Keep the most likely tokens up to probability P; 1 keeps all (default: ${DEFAULT-VALUE}).")
    float topP = DEFAULTS.topP();

    @Option(names = "--min-p", paramLabel = "P", description = "Drop tokens less likely than P times the best; 0 keeps all (default: ${DEFAULT-VALUE}).")
    float minP = DEFAULTS.minP();

    @Option(names = "--repeat-penalty", paramLabel = "X", description = "Penalize repeating recent tokens; 1 is off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty = DEFAULTS.repeatPenalty();

    @Option(names = "--frequency-penalty", paramLabel = "X", description = "Subtract X times a recent token's count from its logit (default: ${DEFAULT-VALUE}).")
    float frequencyPenalty = DEFAULTS.frequencyPenalty();

    @Option(names = "--presence-penalty", paramLabel = "X", description = "Subtract X from the logit of any recent token (default: ${DEFAULT-VALUE}).")
    float presencePenalty = DEFAULTS.presencePenalty();

    @Option(names = "--repeat-last-n", paramLabel = "N", description = "How many recent tokens the penalties look at (default: ${DEFAULT-VALUE}).")
    int penaltyLastN = DEFAULTS.penaltyLastN();

    @Option(names = {"-s", "--seed"}, paramLabel = "N", description = "Seed for the random draws; the same seed repeats a run (default: a new one each run).")
    Long seed;

    SamplerSettings settings() {
        PromptSetting.TEMPERATURE.checkFlag(temperature);
        PromptSetting.TOP_K.checkFlag(topK);
        PromptSetting.TOP_P.checkFlag(topP);
        PromptSetting.MIN_P.checkFlag(minP);
        PromptSetting.REPEAT_PENALTY.checkFlag(repeatPenalty);
        PromptSetting.FREQUENCY_PENALTY.checkFlag(frequencyPenalty);
        PromptSetting.PRESENCE_PENALTY.checkFlag(presencePenalty);
        PromptSetting.REPEAT_LAST_N.checkFlag(penaltyLastN);
        long chosenSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, chosenSeed);
    }
}
