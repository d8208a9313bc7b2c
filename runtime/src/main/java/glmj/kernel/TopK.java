package glmj.kernel;

/**
 * Selection of the k largest scores exactly as ggml's CPU top_k makes it: libstdc++'s {@code std::partial_sort} over
 * the indices with "greater" as the order, whose heap selection decides which of several equal scores at the
 * boundary are kept (the indexer's ReLU makes exact ties, at 0, common).
 */
public final class TopK {
    private TopK() {
    }

    /**
     * Writes into {@code chosen[0..k)} the indices (relative to {@code offset}) of the {@code k} largest of
     * {@code scores[offset..offset+n)}, all of them when {@code n <= k}, in no particular order; returns how many.
     * {@code heap} is scratch of at least {@code n} ints.
     */
    public static int select(float[] scores, int offset, int n, int k, int[] chosen, int[] heap) {
        if (n <= k) {
            for (int i = 0; i < n; i++) {
                chosen[i] = i;
            }
            return n;
        }
        for (int i = 0; i < n; i++) {
            heap[i] = i;
        }
        // std::__heap_select: a heap of the first k keeps its "least" at the top; later greater ones replace it
        makeHeap(scores, offset, heap, k);
        for (int i = k; i < n; i++) {
            if (greater(scores, offset, heap[i], heap[0])) {
                int value = heap[i];
                heap[i] = heap[0];
                adjustHeap(scores, offset, heap, 0, k, value);
            }
        }
        System.arraycopy(heap, 0, chosen, 0, k);
        return k;
    }

    private static boolean greater(float[] scores, int offset, int a, int b) {
        return scores[offset + a] > scores[offset + b];
    }

    private static void makeHeap(float[] scores, int offset, int[] heap, int len) {
        if (len < 2) {
            return;
        }
        for (int parent = (len - 2) / 2; ; parent--) {
            adjustHeap(scores, offset, heap, parent, len, heap[parent]);
            if (parent == 0) {
                return;
            }
        }
    }

    /** std::__adjust_heap: sift the hole down to a leaf, then push {@code value} up from there. */
    private static void adjustHeap(float[] scores, int offset, int[] heap, int hole, int len, int value) {
        int top = hole;
        int child = hole;
        while (child < (len - 1) / 2) {
            child = 2 * (child + 1);
            if (greater(scores, offset, heap[child], heap[child - 1])) {
                child--;
            }
            heap[hole] = heap[child];
            hole = child;
        }
        if ((len & 1) == 0 && child == (len - 2) / 2) {
            child = 2 * (child + 1);
            heap[hole] = heap[child - 1];
            hole = child - 1;
        }
        int parent = (hole - 1) / 2;
        while (hole > top && greater(scores, offset, heap[parent], value)) {
            heap[hole] = heap[parent];
            hole = parent;
            parent = (hole - 1) / 2;
        }
        heap[hole] = value;
    }
}
