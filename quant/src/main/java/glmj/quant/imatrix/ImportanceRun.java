package glmj.quant.imatrix;

import glmj.gguf.GGUFFile;
import glmj.kernel.Kernels;
import glmj.model.GlmDsa;
import glmj.model.KvCache;
import glmj.quant.QuantizeException;
import glmj.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Collects an importance matrix with glmj's engine as llama-imatrix collects one: the text tokenized with the
 * model's tokenizer (its BOS added as llama.cpp adds it), cut into chunks of {@code chunkSize} tokens (at least two
 * chunks; a last partial one is dropped), each chunk's first token replaced by BOS when the vocabulary adds one, and
 * each chunk run through the model's trunk from an empty cache with every position's rows kept to the last layer, in
 * batches of up to {@link #BATCH} tokens, while an {@link ImportanceCollector} sums the inputs of every matmul.
 */
public final class ImportanceRun {
    /** Tokens per forward pass: llama.cpp's default micro-batch. */
    public static final int BATCH = 512;
    /** Chunks between the saves of the matrix collected so far, as llama-imatrix saves every 10. */
    public static final int SAVE_EVERY = 10;

    /**
     * What to collect: chunks of {@code chunkSize} tokens, at most {@code chunks} of them (negative: all the text
     * makes), special tokens in the text parsed as such or not, the output head's input too or not.
     */
    public record Settings(int chunkSize, int chunks, boolean parseSpecial, boolean outputHead) {
    }

    /** Told after every chunk; {@code matrix} is what was collected so far, to be saved now and then. */
    public interface Progress {
        void chunkDone(int done, int total, ImportanceCollector collected);
    }

    private ImportanceRun() {
    }

    /** The tokens {@code text} makes for {@code model}, as llama-imatrix tokenizes its input. */
    public static int[] tokens(GGUFFile model, String text, boolean parseSpecial) {
        return Tokenizer.fromGGUF(model.metadata()).encode(text, true, parseSpecial);
    }

    /** The number of chunks {@code tokens} make. @throws QuantizeException when they make fewer than two */
    public static int chunkCount(int tokens, Settings settings) {
        if (tokens < 2 * settings.chunkSize()) {
            throw new QuantizeException("the text makes " + tokens + " tokens; chunks of " + settings.chunkSize()
                    + " tokens need at least " + 2 * settings.chunkSize());
        }
        int all = tokens / settings.chunkSize();
        return settings.chunks() < 0 ? all : Math.min(settings.chunks(), all);
    }

    /**
     * Runs the chunks of {@code tokens} through {@code model} on {@code kernels} and returns the importance matrix,
     * naming {@code dataset} as its source.
     */
    public static ImportanceMatrix collect(GGUFFile model, Kernels kernels, int[] tokens, String dataset, Settings settings,
                                           Progress progress) {
        int c = settings.chunkSize();
        int chunks = chunkCount(tokens.length, settings);
        ImportanceCollector collector = new ImportanceCollector(kernels, model, settings.outputHead());
        int batch = Math.min(c, BATCH);
        GlmDsa glm = new GlmDsa(model, c, batch, collector);
        Tokenizer tokenizer = Tokenizer.fromGGUF(model.metadata());
        int embedding = glm.config().embeddingLength();
        float[] x = new float[batch * embedding];
        float[] logits = settings.outputHead() ? new float[batch * glm.config().vocabularySize()] : null;
        KvCache cache = glm.newCache();
        for (int i = 0; i < chunks; i++) {
            int[] chunk = Arrays.copyOfRange(tokens, i * c, (i + 1) * c);
            if (tokenizer.addsBos()) {
                chunk[0] = tokenizer.bosToken();
            }
            cache.truncate(0);
            for (int from = 0; from < c; from += batch) {
                int n = Math.min(batch, c - from);
                glm.embed(chunk, from, n, x);
                for (int il = 0; il < glm.config().layerCount(); il++) {
                    glm.layer(il, cache, x, n, 0);
                }
                if (logits != null) {
                    glm.output(x, n, logits);
                }
                cache.advance(n);
            }
            progress.chunkDone(i + 1, chunks, collector);
        }
        return collector.matrix(List.of(dataset), c);
    }
}
