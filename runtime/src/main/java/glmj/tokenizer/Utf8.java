package glmj.tokenizer;

import java.util.Arrays;

/**
 * UTF-8 the way llama.cpp's unicode.cpp converts it, which is laxer than the JDK: overlong forms and surrogates
 * decode as they are, and each byte that starts no complete sequence becomes U+FFFD. So does the first byte of a
 * 4-byte sequence beyond U+10FFFF, which llama.cpp decodes and then fails to tokenize (found by fuzzing).
 */
final class Utf8 {
    static final int REPLACEMENT = 0xFFFD;

    private Utf8() {
    }

    /** The codepoints of {@code bytes[from, to)}. */
    static int[] decode(byte[] bytes, int from, int to) {
        int[] out = new int[to - from];
        int n = 0;
        int i = from;
        while (i < to) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out[n++] = b0;
                i++;
            } else if ((b0 & 0x40) == 0) {
                out[n++] = REPLACEMENT;
                i++;
            } else if ((b0 & 0x20) == 0) {
                if (i + 1 < to && isContinuation(bytes[i + 1])) {
                    out[n++] = ((b0 & 0x1F) << 6) | (bytes[i + 1] & 0x3F);
                    i += 2;
                } else {
                    out[n++] = REPLACEMENT;
                    i++;
                }
            } else if ((b0 & 0x10) == 0) {
                if (i + 2 < to && isContinuation(bytes[i + 1]) && isContinuation(bytes[i + 2])) {
                    out[n++] = ((b0 & 0x0F) << 12) | ((bytes[i + 1] & 0x3F) << 6) | (bytes[i + 2] & 0x3F);
                    i += 3;
                } else {
                    out[n++] = REPLACEMENT;
                    i++;
                }
            } else if ((b0 & 0x08) == 0) {
                int codepoint = i + 3 < to && isContinuation(bytes[i + 1]) && isContinuation(bytes[i + 2])
                        && isContinuation(bytes[i + 3])
                        ? ((b0 & 0x07) << 18) | ((bytes[i + 1] & 0x3F) << 12) | ((bytes[i + 2] & 0x3F) << 6) | (bytes[i + 3] & 0x3F)
                        : -1;
                if (codepoint >= 0 && codepoint <= UnicodeData.MAX_CODEPOINT) {
                    out[n++] = codepoint;
                    i += 4;
                } else {
                    out[n++] = REPLACEMENT;
                    i++;
                }
            } else {
                out[n++] = REPLACEMENT;
                i++;
            }
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /**
     * Appends the UTF-8 of one codepoint to {@code out} at {@code pos} and returns the new position. Codepoints
     * above U+10FFFF have no encoding ({@link #decode} gives none).
     */
    static int encode(int codepoint, byte[] out, int pos) {
        if (codepoint < 0x80) {
            out[pos] = (byte) codepoint;
            return pos + 1;
        }
        if (codepoint < 0x800) {
            out[pos] = (byte) (0xC0 | (codepoint >> 6));
            out[pos + 1] = (byte) (0x80 | (codepoint & 0x3F));
            return pos + 2;
        }
        if (codepoint < 0x10000) {
            out[pos] = (byte) (0xE0 | (codepoint >> 12));
            out[pos + 1] = (byte) (0x80 | ((codepoint >> 6) & 0x3F));
            out[pos + 2] = (byte) (0x80 | (codepoint & 0x3F));
            return pos + 3;
        }
        if (codepoint <= UnicodeData.MAX_CODEPOINT) {
            out[pos] = (byte) (0xF0 | (codepoint >> 18));
            out[pos + 1] = (byte) (0x80 | ((codepoint >> 12) & 0x3F));
            out[pos + 2] = (byte) (0x80 | ((codepoint >> 6) & 0x3F));
            out[pos + 3] = (byte) (0x80 | (codepoint & 0x3F));
            return pos + 4;
        }
        throw new IllegalArgumentException("U+" + Integer.toHexString(codepoint) + " is beyond U+10FFFF");
    }

    private static boolean isContinuation(byte b) {
        return (b & 0xC0) == 0x80;
    }
}
