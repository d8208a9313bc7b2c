package glmj.sampler;

import java.util.SplittableRandom;

/**
 * Chooses each next token from the logits the way llama.cpp's default sampler chain does: repetition penalties,
 * then top-k, top-p, min-p, temperature, and a draw from what is left. The filters' arithmetic is llama.cpp's; the
 * random draw is our own, repeatable for a given seed. All buffers are sized to the vocabulary once, so sampling a
 * token allocates nothing.
 */
public final class Sampler {
    private final SamplerSettings settings;
    private final SplittableRandom random;
    /** Candidate token ids, best first after {@link #keepTopK}; {@code count} of them are live. */
    private final int[] ids;
    private final float[] values;
    /** The last {@code penaltyLastN} accepted tokens, a ring, and how often each token occurs in it. */
    private final int[] recent;
    private final int[] occurrences;
    private int recentCount;
    private int recentNext;
    private int count;

    public Sampler(SamplerSettings settings, int vocabularySize) {
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
        this.ids = new int[vocabularySize];
        this.values = new float[vocabularySize];
        this.recent = new int[Math.max(0, settings.penaltyLastN())];
        this.occurrences = new int[vocabularySize];
    }

    public SamplerSettings settings() {
        return settings;
    }

    /** The next token for these logits (which it may change in place). */
    public int sample(float[] logits) {
        applyPenalties(logits);
        if (settings.isGreedy()) {
            return argmax(logits);
        }
        keepTopK(logits, settings.topK() > 0 ? Math.min(settings.topK(), logits.length) : logits.length);
        keepTopP(settings.topP());
        keepMinP(settings.minP());
        return draw(settings.temperature());
    }

    /** Records a token that became part of the text, for the penalties. */
    public void accept(int token) {
        if (recent.length == 0) {
            return;
        }
        if (recentCount == recent.length) {
            occurrences[recent[recentNext]]--;
        } else {
            recentCount++;
        }
        recent[recentNext] = token;
        occurrences[token]++;
        recentNext = (recentNext + 1) % recent.length;
    }

    /** Forgets the accepted tokens. */
    public void reset() {
        for (int i = 0; i < recentCount; i++) {
            occurrences[recent[i]] = 0;
        }
        recentCount = 0;
        recentNext = 0;
    }

    private void applyPenalties(float[] logits) {
        boolean off = settings.repeatPenalty() == 1f && settings.frequencyPenalty() == 0f && settings.presencePenalty() == 0f;
        if (off) {
            return;
        }
        for (int i = 0; i < recentCount; i++) {
            int token = recent[i];
            int seen = occurrences[token];
            if (seen > 0) {
                float logit = logits[token];
                logit = logit <= 0 ? logit * settings.repeatPenalty() : logit / settings.repeatPenalty();
                logits[token] = logit - seen * settings.frequencyPenalty() - settings.presencePenalty();
                occurrences[token] = -seen;
            }
        }
        for (int i = 0; i < recentCount; i++) {
            occurrences[recent[i]] = Math.abs(occurrences[recent[i]]);
        }
    }

    /** The first largest logit: the token the greedy sampler picks. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Leaves the {@code k} highest logits as the candidates, best first: a min-heap of the best seen so far (its root is
     * the weakest), then the heap is taken apart weakest first into the back of the arrays.
     */
    private void keepTopK(float[] logits, int k) {
        int size = 0;
        for (int token = 0; token < logits.length; token++) {
            float value = logits[token];
            if (size < k) {
                ids[size] = token;
                values[size] = value;
                siftUp(size++);
            } else if (value > values[0]) {
                ids[0] = token;
                values[0] = value;
                siftDown(0, size);
            }
        }
        for (int last = size - 1; last > 0; last--) {
            swap(0, last);
            siftDown(0, last);
        }
        count = size;
    }

    private void siftUp(int child) {
        while (child > 0) {
            int parent = (child - 1) / 2;
            if (!weaker(child, parent)) {
                return;
            }
            swap(child, parent);
            child = parent;
        }
    }

    private void siftDown(int parent, int size) {
        while (true) {
            int weakest = parent;
            for (int child = 2 * parent + 1; child <= 2 * parent + 2 && child < size; child++) {
                if (weaker(child, weakest)) {
                    weakest = child;
                }
            }
            if (weakest == parent) {
                return;
            }
            swap(parent, weakest);
            parent = weakest;
        }
    }

    /** Lower logit is weaker; of equal logits the higher id is weaker, so ties keep the lower id first. */
    private boolean weaker(int a, int b) {
        return values[a] < values[b] || (values[a] == values[b] && ids[a] > ids[b]);
    }

    private void swap(int a, int b) {
        int id = ids[a];
        ids[a] = ids[b];
        ids[b] = id;
        float value = values[a];
        values[a] = values[b];
        values[b] = value;
    }

    /** Turns the candidates' logits into probabilities at {@code temperature} (softmax over the candidates), in place. */
    private float softmax(float temperature) {
        float max = values[0];
        double sum = 0;
        for (int i = 0; i < count; i++) {
            values[i] = (float) Math.exp((values[i] - max) / temperature);
            sum += values[i];
        }
        return (float) sum;
    }

    /** Keeps the smallest best-first prefix whose probability reaches {@code p}. */
    private void keepTopP(float p) {
        if (p >= 1f) {
            return;
        }
        float max = values[0];
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += Math.exp(values[i] - max);
        }
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += Math.exp(values[i] - max) / sum;
            if (cumulative >= p) {
                count = i + 1;
                return;
            }
        }
    }

    /** Keeps the candidates whose probability is at least {@code minP} times the best one's. */
    private void keepMinP(float minP) {
        if (minP <= 0f) {
            return;
        }
        float threshold = values[0] + (float) Math.log(minP);
        int kept = 1;
        while (kept < count && values[kept] >= threshold) {
            kept++;
        }
        count = kept;
    }

    private int draw(float temperature) {
        float total = softmax(temperature);
        double target = random.nextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += values[i];
            if (target < cumulative) {
                return ids[i];
            }
        }
        return ids[count - 1];
    }
}
