package glmj.engine;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Human-readable sizes and counts, for the library's messages and the command's output, and sizes as users write them. */
public final class Units {
    /** A size: a number and an optional unit, decimal (K, M, G, T, with or without B) or binary (KiB ... TiB). */
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]?)(I?B?)", Pattern.CASE_INSENSITIVE);

    private Units() {}

    public static String bytes(long bytes) {
        return bytes < 1024 ? bytes + " B" : scaled(bytes, 1024, " KiB", " MiB", " GiB", " TiB");
    }

    /** A size in decimal units, then binary ones: {@code 244.07 GB (227.31 GiB)}, {@code 59.81 MB (57.04 MiB)}. */
    public static String size(long bytes) {
        return (bytes < 1000 ? bytes + " B" : scaled(bytes, 1000, " kB", " MB", " GB", " TB")) + " (" + bytes(bytes) + ")";
    }

    public static String count(long count) {
        return count < 1000 ? Long.toString(count) : scaled(count, 1000, "K", "M", "B", "T");
    }

    private static String scaled(long amount, int base, String... units) {
        double value = (double) amount / base;
        int unit = 0;
        while (value >= base && unit < units.length - 1) {
            value /= base;
            unit++;
        }
        return String.format(Locale.ROOT, "%.2f%s", value, units[unit]);
    }

    /**
     * The bytes {@code text} says: {@code 50G} and {@code 50GB} are 50 * 1000^3 (as llama-gguf-split reads 50G),
     * {@code 50GiB} 50 * 1024^3, a plain number bytes.
     *
     * @throws IllegalArgumentException for anything else, or a size below 1 byte
     */
    public static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches() || (m.group(3).toUpperCase(Locale.ROOT).equals("I") || (m.group(3).length() == 2 && m.group(2).isEmpty()))) {
            throw new IllegalArgumentException("'" + text + "' is not a size (such as 235G, 50GB, 200GiB or 1.5T)");
        }
        int power = " KMGT".indexOf(m.group(2).isEmpty() ? ' ' : Character.toUpperCase(m.group(2).charAt(0)));
        long unit = m.group(3).length() == 2 ? 1L << (10 * power) : (long) Math.pow(1000, power);
        long bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)).longValue();
        if (bytes < 1) {
            throw new IllegalArgumentException("'" + text + "' is less than a byte");
        }
        return bytes;
    }
}
