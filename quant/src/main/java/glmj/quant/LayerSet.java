package glmj.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The blocks a recipe rule applies to, as a comma-separated list of: {@code N}, {@code N-M} and {@code N-} (block
 * numbers), {@code dense}, {@code moe} and {@code mtp} (the leading dense blocks, the trunk's MoE blocks, the
 * multi-token-prediction blocks), {@code moe:N}, {@code moe:N-M} and {@code moe:N-} (MoE blocks counted from the first
 * MoE block, 0), and {@code more-bits} (the blocks llama-quantize's {@code use_more_bits} gives more bits: the first
 * and last eighth of all blocks and every third between). A tensor outside the blocks is in no set.
 */
public final class LayerSet {
    private static final Pattern RANGE = Pattern.compile("(moe:)?(\\d+)(?:(-)(\\d+)?)?");

    private final String text;
    private final List<BiPredicate<LayerLayout, Integer>> parts;

    private LayerSet(String text, List<BiPredicate<LayerLayout, Integer>> parts) {
        this.text = text;
        this.parts = parts;
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming the part that is neither a range nor a known set
     */
    public static LayerSet parse(String text) {
        List<BiPredicate<LayerLayout, Integer>> parts = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            parts.add(switch (part) {
                case "dense" -> LayerLayout::isDense;
                case "moe" -> LayerLayout::isMoe;
                case "mtp" -> LayerLayout::isMtp;
                case "more-bits" -> LayerLayout::moreBits;
                default -> range(part);
            });
        }
        return new LayerSet(text, List.copyOf(parts));
    }

    private static BiPredicate<LayerLayout, Integer> range(String part) {
        Matcher m = RANGE.matcher(part);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + part + "' is not a block set (N, N-M, N-, dense, moe, mtp, moe:N-M, more-bits)");
        }
        boolean moe = m.group(1) != null;
        int from = Integer.parseInt(m.group(2));
        int to = m.group(3) == null ? from : m.group(4) == null ? Integer.MAX_VALUE : Integer.parseInt(m.group(4));
        if (to < from) {
            throw new IllegalArgumentException("'" + part + "' is an empty range");
        }
        return moe
                ? (layout, layer) -> layout.isMoe(layer) && layout.moeIndex(layer) >= from && layout.moeIndex(layer) <= to
                : (layout, layer) -> layer >= from && layer <= to;
    }

    /** Whether block {@code layer} (-1 for tensors outside the blocks) of a model laid out as {@code layout} is in the set. */
    public boolean contains(LayerLayout layout, int layer) {
        if (layer < 0) {
            return false;
        }
        for (BiPredicate<LayerLayout, Integer> part : parts) {
            if (part.test(layout, layer)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return text;
    }
}
