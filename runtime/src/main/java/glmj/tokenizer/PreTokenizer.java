package glmj.tokenizer;

/**
 * Splits text into words before BPE. Both supported splitters are llama.cpp's hand-written equivalents
 * (unicode_regex_split_custom_llama3 / _qwen2) of the regex
 * <pre>(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,K}
 * | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</pre>
 * with K = 3 (GLM-4/GLM-5 and Llama 3) or K = 1 (Qwen2). The hand-written versions differ from a true regex engine
 * in corner cases, and llama.cpp is the reference, so this follows them step by step.
 */
enum PreTokenizer {
    /** Digits in runs of at most three: pre-tokenizer "glm4" (and the Llama 3 family). */
    DIGITS_BY_THREE(3),
    /** Every digit on its own: pre-tokenizer "qwen2". */
    DIGITS_BY_ONE(1);

    /** Flag for \s; the low byte holds the {@link UnicodeData} category. Out-of-range positions have flags 0. */
    private static final int WHITESPACE = 0x100;
    private static final int OUT_OF_RANGE = -1;

    private final int maxDigits;

    PreTokenizer(int maxDigits) {
        this.maxDigits = maxDigits;
    }

    /** Receives the end offset (in codepoints, exclusive) of each word in order. */
    interface WordSink {
        void wordEnd(int end);
    }

    /** Splits {@code cpts[0, length)} and reports every word end to {@code sink}. */
    void split(int[] cpts, int length, WordSink sink) {
        Scanner s = new Scanner(cpts, length, sink);
        int pos = 0;
        while (pos < length) {
            int cpt = cpts[pos];
            int flags = s.flags(pos);

            if (cpt == '\'' && pos + 1 < length) {
                int next = toLowerAscii(cpts[pos + 1]);
                if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                    pos = s.wordTo(pos + 2);
                    continue;
                }
                if (pos + 2 < length) {
                    int nextNext = toLowerAscii(cpts[pos + 2]);
                    if ((next == 'r' && nextNext == 'e') || (next == 'v' && nextNext == 'e')
                            || (next == 'l' && nextNext == 'l')) {
                        pos = s.wordTo(pos + 3);
                        continue;
                    }
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!(cpt == '\r' || cpt == '\n' || isNumber(flags))) {
                if (isLetter(flags) || isLetter(s.flags(pos + 1))) {
                    pos++;
                    while (isLetter(s.flags(pos))) {
                        pos++;
                    }
                    pos = s.wordTo(pos);
                    continue;
                }
            }

            // \p{N}{1,K}
            if (isNumber(flags)) {
                int runStart = pos;
                while (isNumber(s.flags(pos))) {
                    pos++;
                    if (pos - runStart >= maxDigits) {
                        s.wordTo(pos);
                        runStart = pos;
                    }
                }
                pos = s.wordTo(pos);
                continue;
            }

            // <space>?[^\s\p{L}\p{N}]+[\r\n]*  (flags != 0 means "inside the text")
            int flags2 = cpt == ' ' ? s.flags(pos + 1) : flags;
            if (isOther(flags2) && flags != 0) {
                if (cpt == ' ') {
                    pos++;
                }
                while (isOther(flags2) && flags2 != 0) {
                    flags2 = s.flags(++pos);
                }
                int cpt2 = s.codepoint(pos);
                while (cpt2 == '\r' || cpt2 == '\n') {
                    cpt2 = s.codepoint(++pos);
                }
                pos = s.wordTo(pos);
                continue;
            }

            int whitespaces = 0;
            int lastLineBreakEnd = 0;
            while ((s.flags(pos + whitespaces) & WHITESPACE) != 0) {
                int cpt2 = s.codepoint(pos + whitespaces);
                if (cpt2 == '\r' || cpt2 == '\n') {
                    lastLineBreakEnd = pos + whitespaces + 1;
                }
                whitespaces++;
            }

            // \s*[\r\n]+
            if (lastLineBreakEnd > 0) {
                pos = s.wordTo(lastLineBreakEnd);
                continue;
            }

            // \s+(?!\S)
            if (whitespaces > 1 && s.codepoint(pos + whitespaces) != OUT_OF_RANGE) {
                pos = s.wordTo(pos + whitespaces - 1);
                continue;
            }

            // \s+
            if (whitespaces > 0) {
                pos = s.wordTo(pos + whitespaces);
                continue;
            }

            pos = s.wordTo(pos + 1);
        }
    }

    private static boolean isLetter(int flags) {
        return (flags & 0xFF) == UnicodeData.LETTER;
    }

    private static boolean isNumber(int flags) {
        return (flags & 0xFF) == UnicodeData.NUMBER;
    }

    /** Not \s, \p{L} or \p{N}. */
    private static boolean isOther(int flags) {
        return (flags & WHITESPACE) == 0 && !isLetter(flags) && !isNumber(flags);
    }

    /** llama.cpp lower-cases with its full table, but only ASCII capitals lower-case to the letters tested here. */
    private static int toLowerAscii(int cpt) {
        return cpt >= 'A' && cpt <= 'Z' ? cpt + ('a' - 'A') : cpt;
    }

    /** Bounds-aware access and word emission for one text. */
    private static final class Scanner {
        private final int[] cpts;
        private final int length;
        private final WordSink sink;
        private int previousEnd;

        Scanner(int[] cpts, int length, WordSink sink) {
            this.cpts = cpts;
            this.length = length;
            this.sink = sink;
        }

        int codepoint(int pos) {
            return pos >= 0 && pos < length ? cpts[pos] : OUT_OF_RANGE;
        }

        int flags(int pos) {
            if (pos < 0 || pos >= length) {
                return 0;
            }
            int cpt = cpts[pos];
            return UnicodeData.category(cpt) | (UnicodeData.isWhitespace(cpt) ? WHITESPACE : 0);
        }

        /** Ends the current word at {@code end} (nothing if it would be empty) and returns {@code end}. */
        int wordTo(int end) {
            if (end > previousEnd) {
                sink.wordEnd(end);
            }
            previousEnd = end;
            return end;
        }
    }
}
