package glmj.gguf;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The naming of split GGUF files, as llama.cpp's {@code llama_split_path} formats it:
 * {@code PREFIX-%05d-of-%05d.gguf} with the 1-based shard number and the shard count.
 */
record SplitName(String prefix, int number, int count) {
    private static final Pattern SHARD = Pattern.compile("(.+)-(\\d{5})-of-(\\d{5})\\.gguf");

    /** The split name of {@code file}, or null when its name is not a shard name. */
    static SplitName of(Path file) {
        Path name = file.getFileName();
        Matcher m = name == null ? null : SHARD.matcher(name.toString());
        if (m == null || !m.matches()) {
            return null;
        }
        int number = Integer.parseInt(m.group(2));
        int count = Integer.parseInt(m.group(3));
        return number >= 1 && number <= count ? new SplitName(m.group(1), number, count) : null;
    }

    static String fileName(String prefix, int number, int count) {
        return String.format("%s-%05d-of-%05d.gguf", prefix, number, count);
    }

    /** The path of shard {@code n} (1-based) of this set, next to {@code file}. */
    Path sibling(Path file, int n) {
        return file.resolveSibling(fileName(prefix, n, count));
    }
}
