package glmj.generate;

import java.util.Arrays;

/** The tokens a session's context holds, in order, so a new prompt can keep the part it shares. */
public final class History {
    /** No token's id: what {@link #recordUnknown} holds. */
    private static final int UNKNOWN = -1;
    private final int[] tokens;

    /** Room for a context of {@code capacity} tokens, made once. */
    public History(int capacity) {
        this.tokens = new int[capacity];
    }

    /** Records {@code count} tokens from {@code offset} as held from position {@code at}. */
    public void record(int[] source, int offset, int count, int at) {
        System.arraycopy(source, offset, tokens, at, count);
    }

    /** Records {@code count} tokens as held from position {@code at} without knowing them: no prompt shares them. */
    public void recordUnknown(int count, int at) {
        Arrays.fill(tokens, at, at + count, UNKNOWN);
    }

    /** The length of the longest prefix the first {@code held} tokens share with {@code prompt}, short of all of it. */
    public int commonPrefix(int[] prompt, int held) {
        int n = Math.min(held, prompt.length - 1);
        int i = 0;
        while (i < n && tokens[i] == prompt[i]) {
            i++;
        }
        return i;
    }
}
