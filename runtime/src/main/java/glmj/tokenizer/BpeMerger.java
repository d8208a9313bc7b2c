package glmj.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE over one pre-tokenized word, as llama.cpp's llm_tokenizer_bpe_session does it: start from one symbol
 * per byte, repeatedly merge the adjacent pair of lowest merge rank (leftmost first on ties), then map each final
 * symbol to its token, or, if it is no token, each of its single-byte pieces that is one.
 *
 * <p>Every string that is a token or a merge part gets a symbol id (the token id for tokens, ids from
 * {@code vocabularySize} upward for the rest), so merging works on ints: a pair table maps two symbol ids to the
 * merge's rank and its result. Results per word are cached.
 */
final class BpeMerger {
    private static final int CACHE_LIMIT = 1 << 16;
    /** Longer words (long whitespace or digit-free letter runs) are rare and would bloat the cache. */
    private static final int CACHED_WORD_MAX_BYTES = 128;

    private final int vocabularySize;
    /** Texts of the symbols that are no token, indexed by {@code id - vocabularySize}. */
    private final List<String> extraSymbolTexts = new ArrayList<>();
    private final PairTable pairs;
    /** Symbol of the single-char string spelling each byte, or -1. */
    private final int[] byteSymbols = new int[256];
    /** Token whose text is exactly this one ASCII char, or -1: llama.cpp's last-resort lookup per byte. */
    private final int[] asciiTokens = new int[128];
    private final boolean ignoreMerges;
    private final Map<String, Integer> textToToken;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param textToToken token text to id (for duplicated texts the last id, as llama.cpp keeps); kept, not copied
     * @param merges      "left right" strings in rank order; the first space after position 0 separates the parts
     */
    BpeMerger(int vocabularySize, Map<String, Integer> textToToken, String[] merges, boolean ignoreMerges) {
        this.vocabularySize = vocabularySize;
        this.textToToken = textToToken;
        this.ignoreMerges = ignoreMerges;
        Map<String, Integer> symbols = new HashMap<>(textToToken);
        this.pairs = new PairTable(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            String left = space < 0 ? "" : merge.substring(0, space);
            String right = space < 0 ? "" : merge.substring(space + 1);
            int leftId = symbol(symbols, left);
            int rightId = symbol(symbols, right);
            pairs.putIfAbsent(leftId, rightId, rank, symbol(symbols, left + right));
        }
        for (int b = 0; b < 256; b++) {
            byteSymbols[b] = symbols.getOrDefault(String.valueOf(ByteLevel.encode(b)), -1);
        }
        for (int c = 0; c < 128; c++) {
            asciiTokens[c] = textToToken.getOrDefault(String.valueOf((char) c), -1);
        }
    }

    private int symbol(Map<String, Integer> symbols, String text) {
        Integer id = symbols.get(text);
        if (id == null) {
            id = vocabularySize + extraSymbolTexts.size();
            extraSymbolTexts.add(text);
            symbols.put(text, id);
        }
        return id;
    }

    /** Appends the tokens of the word {@code utf8[0, length)} to {@code out}. */
    void encodeWord(byte[] utf8, int length, TokenList out) {
        if (length > CACHED_WORD_MAX_BYTES) {
            out.addAll(merge(utf8, length));
            return;
        }
        String key = new String(utf8, 0, length, StandardCharsets.ISO_8859_1);
        int[] tokens = cache.get(key);
        if (tokens == null) {
            tokens = merge(utf8, length);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(key, tokens);
        }
        out.addAll(tokens);
    }

    private int[] merge(byte[] utf8, int n) {
        if (ignoreMerges) {
            Integer whole = textToToken.get(byteLevelText(utf8, n));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int[] symbol = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            symbol[i] = byteSymbols[utf8[i] & 0xFF];
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        BigramHeap heap = new BigramHeap(n);
        for (int i = 1; i < n; i++) {
            offer(heap, symbol, length, i - 1, i);
        }
        while (!heap.isEmpty()) {
            int entry = heap.poll();
            int left = heap.left(entry);
            int right = heap.right(entry);
            // stale unless both sides are alive and unchanged (same start, same total length means same text)
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != heap.size(entry)) {
                continue;
            }
            symbol[left] = heap.result(entry);
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            offer(heap, symbol, length, prev[left], left);
            offer(heap, symbol, length, left, next[left]);
        }
        TokenList tokens = new TokenList(n);
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            int id = symbol[i];
            if (id >= 0 && id < vocabularySize) {
                tokens.add(id);
            } else {
                String text = id < 0 ? String.valueOf(ByteLevel.encode(utf8[i] & 0xFF))
                        : extraSymbolTexts.get(id - vocabularySize);
                for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                    if (b >= 0 && asciiTokens[b] >= 0) {
                        tokens.add(asciiTokens[b]);
                    }
                }
            }
        }
        return tokens.toArray();
    }

    private void offer(BigramHeap heap, int[] symbol, int[] length, int left, int right) {
        if (left < 0 || right < 0 || symbol[left] < 0 || symbol[right] < 0) {
            return;
        }
        int slot = pairs.find(symbol[left], symbol[right]);
        if (slot >= 0) {
            heap.add(pairs.rank(slot), left, right, length[left] + length[right], pairs.result(slot));
        }
    }

    private static String byteLevelText(byte[] utf8, int n) {
        char[] chars = new char[n];
        for (int i = 0; i < n; i++) {
            chars[i] = ByteLevel.encode(utf8[i] & 0xFF);
        }
        return new String(chars);
    }

    /** Open-addressing map from a pair of symbol ids to (rank, result symbol); the first rank of a pair wins. */
    private static final class PairTable {
        private final long[] keys;
        private final int[] ranks;
        private final int[] results;
        private final int mask;

        PairTable(int expected) {
            int capacity = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
            keys = new long[capacity];
            Arrays.fill(keys, -1L);
            ranks = new int[capacity];
            results = new int[capacity];
            mask = capacity - 1;
        }

        void putIfAbsent(int left, int right, int rank, int result) {
            long key = key(left, right);
            int slot = slotOf(key);
            if (keys[slot] == -1L) {
                keys[slot] = key;
                ranks[slot] = rank;
                results[slot] = result;
            }
        }

        /** The slot of the pair, or -1 if it has no merge. */
        int find(int left, int right) {
            long key = key(left, right);
            int slot = slotOf(key);
            return keys[slot] == key ? slot : -1;
        }

        int rank(int slot) {
            return ranks[slot];
        }

        int result(int slot) {
            return results[slot];
        }

        private int slotOf(long key) {
            int slot = (int) mix(key) & mask;
            while (keys[slot] != -1L && keys[slot] != key) {
                slot = (slot + 1) & mask;
            }
            return slot;
        }

        private static long key(int left, int right) {
            return ((long) left << 32) | (right & 0xFFFFFFFFL);
        }

        private static long mix(long x) {
            x *= 0x9E3779B97F4A7C15L;
            return x ^ (x >>> 29);
        }
    }

    /** Min-heap of candidate merges ordered by (rank, left position), as llama.cpp's llm_bigram_bpe comparator. */
    private static final class BigramHeap {
        private int[] rank;
        private int[] left;
        private int[] right;
        private int[] size;
        private int[] result;
        private int entries;
        private int[] heap;
        private int heapSize;

        BigramHeap(int expected) {
            int capacity = Math.max(4, expected * 2);
            rank = new int[capacity];
            left = new int[capacity];
            right = new int[capacity];
            size = new int[capacity];
            result = new int[capacity];
            heap = new int[capacity];
        }

        boolean isEmpty() {
            return heapSize == 0;
        }

        void add(int entryRank, int entryLeft, int entryRight, int entrySize, int entryResult) {
            if (entries == rank.length) {
                int capacity = rank.length * 2;
                rank = Arrays.copyOf(rank, capacity);
                left = Arrays.copyOf(left, capacity);
                right = Arrays.copyOf(right, capacity);
                size = Arrays.copyOf(size, capacity);
                result = Arrays.copyOf(result, capacity);
                heap = Arrays.copyOf(heap, capacity);
            }
            int e = entries++;
            rank[e] = entryRank;
            left[e] = entryLeft;
            right[e] = entryRight;
            size[e] = entrySize;
            result[e] = entryResult;
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!before(e, heap[parent])) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = e;
        }

        /** Removes and returns the first entry. */
        int poll() {
            int top = heap[0];
            int last = heap[--heapSize];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= heapSize) {
                    break;
                }
                if (child + 1 < heapSize && before(heap[child + 1], heap[child])) {
                    child++;
                }
                if (!before(heap[child], last)) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }

        int left(int e) {
            return left[e];
        }

        int right(int e) {
            return right[e];
        }

        int size(int e) {
            return size[e];
        }

        int result(int e) {
            return result[e];
        }

        private boolean before(int a, int b) {
            return rank[a] < rank[b] || (rank[a] == rank[b] && left[a] < left[b]);
        }
    }
}
