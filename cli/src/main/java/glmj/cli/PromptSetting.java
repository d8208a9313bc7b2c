package glmj.cli;

import glmj.sampler.SamplerSettings;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A setting of how a prompt is answered, one row each: its name as a flag, as a chat {@code /set} name and as a batch
 * JSON field, and the values it takes. The flags, {@code /set} and batch input all check values here, so each refuses
 * the same values with the same words.
 */
enum PromptSetting {
    N_PREDICT("-n", "n", "n_predict", true, -1, Integer.MAX_VALUE, "-1 or more", null),
    TEMPERATURE("--temp", "temp", "temperature", false, 0, Float.MAX_VALUE, "0 or more",
            (s, v) -> s.withTemperature(v.floatValue())),
    TOP_K("--top-k", "top-k", "top_k", true, 0, Integer.MAX_VALUE, "0 or more", (s, v) -> s.withTopK(v.intValue())),
    TOP_P("--top-p", "top-p", "top_p", false, 0, 1, "from 0 to 1", (s, v) -> s.withTopP(v.floatValue())),
    MIN_P("--min-p", "min-p", "min_p", false, 0, 1, "from 0 to 1", (s, v) -> s.withMinP(v.floatValue())),
    /** Logits are divided (or multiplied) by it, so it must be above 0. */
    REPEAT_PENALTY("--repeat-penalty", "repeat-penalty", "repeat_penalty", false, Float.MIN_VALUE, Float.MAX_VALUE, "more than 0",
            (s, v) -> s.withRepeatPenalty(v.floatValue())),
    FREQUENCY_PENALTY("--frequency-penalty", "frequency-penalty", "frequency_penalty", false, -Float.MAX_VALUE, Float.MAX_VALUE,
            "finite", (s, v) -> s.withFrequencyPenalty(v.floatValue())),
    PRESENCE_PENALTY("--presence-penalty", "presence-penalty", "presence_penalty", false, -Float.MAX_VALUE, Float.MAX_VALUE,
            "finite", (s, v) -> s.withPresencePenalty(v.floatValue())),
    REPEAT_LAST_N("--repeat-last-n", "repeat-last-n", "repeat_last_n", true, 0, Integer.MAX_VALUE, "0 or more",
            (s, v) -> s.withPenaltyLastN(v.intValue())),
    SEED("--seed", "seed", "seed", true, Long.MIN_VALUE, Long.MAX_VALUE, null, (s, v) -> s.withSeed(v.longValue()));

    final String flag;
    final String setName;
    final String jsonName;
    /** Whether values are whole numbers (within a long); otherwise any number, as a float. */
    final boolean integer;
    private final double min;
    private final double max;
    /** The valid values in words, or null for every value of the type. */
    private final String range;
    private final BiFunction<SamplerSettings, Number, SamplerSettings> sampler;

    PromptSetting(String flag, String setName, String jsonName, boolean integer, double min, double max, String range,
                  BiFunction<SamplerSettings, Number, SamplerSettings> sampler) {
        this.flag = flag;
        this.setName = setName;
        this.jsonName = jsonName;
        this.integer = integer;
        this.min = min;
        this.max = max;
        this.range = range;
        this.sampler = sampler;
    }

    /** The {@code /set} names, in table order. */
    static List<String> setNames() {
        return Arrays.stream(values()).map(setting -> setting.setName).toList();
    }

    /** The setting a {@code /set} name or a JSON field names, or null. */
    static PromptSetting named(String name, boolean json) {
        for (PromptSetting setting : values()) {
            if ((json ? setting.jsonName : setting.setName).equals(name)) {
                return setting;
            }
        }
        return null;
    }

    /** The valid values in words: "a number, from 0 to 1". */
    String expected() {
        return (integer ? "an integer" : "a number") + (range != null ? ", " + range : "");
    }

    /** Whether {@code value} is one of this setting's. */
    boolean accepts(Number value) {
        if (integer) {
            long v = value.longValue();
            return v >= min && v <= max;
        }
        double v = value.doubleValue();
        return v >= min && v <= max; // false for NaN
    }

    /** Checks a flag's value: a {@link UserInputException} naming the flag when it is out of range. */
    void checkFlag(Number value) {
        if (!accepts(value)) {
            throw new UserInputException(flag + " must be " + expected() + ", not " + value);
        }
    }

    /** Parses a {@code /set} value: null when it is not one of this setting's. */
    Number parse(String text) {
        try {
            Number value = integer ? Long.parseLong(text) : Double.parseDouble(text);
            return accepts(value) ? value : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Whether this setting belongs to the sampler (all but {@link #N_PREDICT}). */
    boolean isSampling() {
        return sampler != null;
    }

    /** {@code settings} with this setting at {@code value}. */
    SamplerSettings apply(SamplerSettings settings, Number value) {
        return sampler.apply(settings, value);
    }
}
