package glmj.cli;

/** Human-readable sizes and counts for command output. */
final class Units {
    private Units() {}

    static String bytes(long bytes) {
        return bytes < 1024 ? bytes + " B" : scaled(bytes, 1024, " KiB", " MiB", " GiB", " TiB");
    }

    static String count(long count) {
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
