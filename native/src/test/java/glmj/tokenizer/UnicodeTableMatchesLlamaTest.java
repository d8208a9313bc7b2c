package glmj.tokenizer;

import glmj.llamacpp.Oracle;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The category resource is exactly llama.cpp's unicode_ranges_flags, and the whitespace set its unicode_set_whitespace. */
class UnicodeTableMatchesLlamaTest {
    private static String source() throws IOException {
        return Files.readString(Oracle.source("src/unicode-data.cpp"));
    }

    private static String block(String source, String name) {
        int start = source.indexOf(name);
        assertTrue(start >= 0, name);
        return source.substring(source.indexOf('{', start) + 1, source.indexOf("};", start));
    }

    @Test
    void categoryRangesAreLlamaCpps() throws IOException {
        List<int[]> expected = new ArrayList<>();
        Matcher m = Pattern.compile("\\{0x([0-9A-Fa-f]+), 0x([0-9A-Fa-f]+)}").matcher(block(source(), "unicode_ranges_flags"));
        while (m.find()) {
            expected.add(new int[] {Integer.parseInt(m.group(1), 16), Integer.parseInt(m.group(2), 16)});
        }
        // llama.cpp closes the table with a sentinel at MAX_CODEPOINTS + 1, which the resource leaves implicit
        assertArrayEquals(new int[] {0x110000, 0}, expected.removeLast());
        int[][] ours = UnicodeData.ranges();
        assertEquals(expected.size(), ours.length);
        for (int i = 0; i < ours.length; i++) {
            assertArrayEquals(expected.get(i), ours[i], "range " + i);
        }
    }

    @Test
    void whitespaceIsLlamaCpps() throws IOException {
        Matcher m = Pattern.compile("0x([0-9A-Fa-f]+)").matcher(block(source(), "unicode_set_whitespace"));
        List<Integer> expected = new ArrayList<>();
        while (m.find()) {
            expected.add(Integer.parseInt(m.group(1), 16));
        }
        List<Integer> ours = new ArrayList<>();
        for (int cpt = 0; cpt <= UnicodeData.MAX_CODEPOINT; cpt++) {
            if (UnicodeData.isWhitespace(cpt)) {
                ours.add(cpt);
            }
        }
        assertEquals(expected, ours);
    }
}
