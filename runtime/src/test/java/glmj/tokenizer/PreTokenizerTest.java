package glmj.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-written splitters against the regexes they stand for, run by java.util.regex on random text. The alphabet
 * is limited to codepoints that the JDK and llama.cpp's tables classify alike, so only the splitting logic is tested.
 */
class PreTokenizerTest {
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String REST = "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,%d}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static Pattern regexOf(int maxDigits) {
        return Pattern.compile(CONTRACTIONS + "|" + REST.formatted(maxDigits), Pattern.UNICODE_CHARACTER_CLASS);
    }

    /** Codepoints of every class the splitter distinguishes: letters, digits, marks, symbols, whitespace, controls. */
    private static final int[] CANDIDATES = (
            "abcdeflmnorstvxyzABDELMRSTVZ'\"!?.,;:-_()[]{}<>/\\|@#$%^&*+=~` \t\n\r\u000b\u000c"
                    + "0123456789\u00a0\u0085\u1680\u2000\u2003\u200a\u2028\u2029\u202f\u205f\u3000"
                    + "éüßøÆçñЖжΩωאבعربहिन्दी中文日本語한국어ไทย"
                    + "\u0301\u0308\u0303\u200d\ufe0f"
                    + "²³½¾Ⅻ٣٤５６①"
                    + "€£¥©®°±×÷→∑∞"
                    + "\u0000\u0001\u001f\u007f"
                    + "🦙😀👍🏽🇩🇪"
                    + "\ud835\udc00\ud835\udfce") // mathematical bold A (letter) and bold digit zero (number)
            .codePoints().distinct().toArray();

    /** Characters the rules single out, drawn more often. */
    private static final String FAVOURED = " '\n\r\t1sS";

    private static int[] alphabet() {
        return java.util.Arrays.stream(CANDIDATES).filter(PreTokenizerTest::classifiedAlike).toArray();
    }

    private static boolean classifiedAlike(int cpt) {
        int java = switch (Character.getType(cpt)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> UnicodeData.NUMBER;
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> UnicodeData.LETTER;
            default -> 0;
        };
        int llama = UnicodeData.category(cpt);
        boolean sameClass = java == 0 ? llama != UnicodeData.NUMBER && llama != UnicodeData.LETTER : java == llama;
        boolean javaSpace = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS).matcher(Character.toString(cpt)).matches();
        return sameClass && javaSpace == UnicodeData.isWhitespace(cpt);
    }

    private static List<String> split(PreTokenizer preTokenizer, String text) {
        int[] cpts = text.codePoints().toArray();
        List<String> words = new ArrayList<>();
        int[] start = {0};
        preTokenizer.split(cpts, cpts.length, end -> {
            words.add(new String(cpts, start[0], end - start[0]));
            start[0] = end;
        });
        assertEquals(cpts.length, start[0], "words cover the text");
        return words;
    }

    private static List<String> regexSplit(Pattern pattern, String text) {
        List<String> words = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int end = 0;
        while (m.find()) {
            assertEquals(end, m.start(), "the regex leaves no gap in " + text);
            words.add(m.group());
            end = m.end();
        }
        assertEquals(text.length(), end);
        return words;
    }

    @Test
    void alphabetCoversEveryClass() {
        int[] alphabet = alphabet();
        assertTrue(alphabet.length > 150, "alphabet of " + alphabet.length);
    }

    @Test
    void splittersEqualTheirRegexesOnRandomText() {
        int[] alphabet = alphabet();
        Random random = new Random(20261123);
        for (PreTokenizer preTokenizer : PreTokenizer.values()) {
            Pattern regex = regexOf(preTokenizer == PreTokenizer.DIGITS_BY_THREE ? 3 : 1);
            for (int i = 0; i < 3000; i++) {
                StringBuilder text = new StringBuilder();
                int length = random.nextInt(40);
                for (int j = 0; j < length; j++) {
                    // bias towards the characters the rules single out
                    int pick = random.nextInt(4) == 0 ? FAVOURED.charAt(random.nextInt(FAVOURED.length()))
                            : alphabet[random.nextInt(alphabet.length)];
                    text.appendCodePoint(pick);
                }
                String s = text.toString();
                assertEquals(regexSplit(regex, s), split(preTokenizer, s), () -> preTokenizer + " on " + escape(s));
            }
        }
    }

    @Test
    void glm4SplitsDigitsInThreesAndQwen2OneByOne() {
        assertEquals(List.of("123", "456", "7"), split(PreTokenizer.DIGITS_BY_THREE, "1234567"));
        assertEquals(List.of("1", "2", "3"), split(PreTokenizer.DIGITS_BY_ONE, "123"));
        assertEquals(List.of("I", "'m", " sure", " it", "'S", " done"),
                split(PreTokenizer.DIGITS_BY_THREE, "I'm sure it'S done"));
        assertEquals(List.of("a", "  ", " b", " \n\n", "  ", " c", "   "),
                split(PreTokenizer.DIGITS_BY_THREE, "a   b \n\n   c   "));
    }

    private static String escape(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().forEach(c -> out.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\u{%x}", c)));
        return out.toString();
    }
}
