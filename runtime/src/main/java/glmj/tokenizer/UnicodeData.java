package glmj.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Codepoint classes exactly as llama.cpp v0.5.0 sees them. Its tables come from an older Unicode version than the
 * JDK's, so {@link Character#getType} would split differently for recently assigned codepoints; the ranges are read
 * from a resource copied from llama.cpp's unicode-data.cpp.
 */
final class UnicodeData {
    static final int MAX_CODEPOINT = 0x10FFFF;

    // category flags as in llama.cpp's unicode_cpt_flags; the splitters only single out these
    static final int UNDEFINED = 0x01;
    static final int NUMBER = 0x02;
    static final int LETTER = 0x04;

    private static final String RESOURCE = "unicode-categories.txt";

    /** llama.cpp's unicode_set_whitespace (what its pre-tokenizers treat as \s). */
    private static final int[] WHITESPACE = {
        0x0009, 0x000A, 0x000B, 0x000C, 0x000D, 0x0020, 0x0085, 0x00A0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
        0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    };

    /** Category flag of every codepoint, one byte each. */
    private static final byte[] CATEGORY = loadCategories();

    private UnicodeData() {
    }

    /** The category flag of a codepoint (one bit of 0x01..0x80); UNDEFINED outside the Unicode range. */
    static int category(int codepoint) {
        return codepoint >= 0 && codepoint <= MAX_CODEPOINT ? CATEGORY[codepoint] & 0xFF : UNDEFINED;
    }

    static boolean isWhitespace(int codepoint) {
        if (codepoint < 0x80) {
            return codepoint == ' ' || (codepoint >= 0x09 && codepoint <= 0x0D);
        }
        return Arrays.binarySearch(WHITESPACE, codepoint) >= 0;
    }

    /** The ranges as (first codepoint, flag) pairs in file order, for checking the resource against its source. */
    static int[][] ranges() {
        try (InputStream in = UnicodeData.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource glmj/tokenizer/" + RESOURCE);
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            return reader.lines()
                    .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .map(line -> {
                        int space = line.indexOf(' ');
                        return new int[] {
                            Integer.parseInt(line, 0, space, 16), Integer.parseInt(line, space + 1, line.length(), 16)
                        };
                    })
                    .toArray(int[][]::new);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource glmj/tokenizer/" + RESOURCE, e);
        }
    }

    private static byte[] loadCategories() {
        int[][] ranges = ranges();
        byte[] categories = new byte[MAX_CODEPOINT + 1];
        for (int i = 0; i < ranges.length; i++) {
            int end = i + 1 < ranges.length ? ranges[i + 1][0] : MAX_CODEPOINT + 1;
            Arrays.fill(categories, ranges[i][0], end, (byte) ranges[i][1]);
        }
        return categories;
    }
}
