package glmj.tokenizer;

/**
 * GPT-2's byte-to-unicode table: byte-level BPE vocabularies spell every byte as one printable codepoint. Bytes
 * '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the 68 others map, in byte order, to U+0100 upward.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Inverse of {@link #BYTE_TO_CHAR}, indexed by char; -1 for chars that spell no byte. */
    private static final short[] CHAR_TO_BYTE = new short[0x100 + 256];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevel() {
    }

    static char encode(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte a codepoint spells, or -1 if it spells none. */
    static int decode(int codepoint) {
        return codepoint >= 0 && codepoint < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[codepoint] : -1;
    }
}
