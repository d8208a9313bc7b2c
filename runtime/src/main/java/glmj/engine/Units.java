package glmj.engine;

/** Human-readable sizes and counts, for the library's messages and the command's output. */
public final class Units {
    private Units() {}

    public static String bytes(long bytes) {
        return bytes < 1024 ? bytes + " B" : scaled(bytes, 1024, " KiB", " MiB", " GiB", " TiB");
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
        return String.format("%.2f%s", value, units[unit]);
    }
}
