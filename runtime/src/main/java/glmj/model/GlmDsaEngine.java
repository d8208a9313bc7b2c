package glmj.model;

import glmj.generate.ContextFullException;
import glmj.generate.LanguageModel;
import glmj.gguf.GGUFFile;
import glmj.kernel.Kernels;
import glmj.kernel.VectorKernels;
import java.io.IOException;
import java.nio.file.Path;

/** glmj's own engine: the {@link GlmDsa} forward pass on a mapped GGUF file, as a {@link LanguageModel}. */
public final class GlmDsaEngine implements LanguageModel {
    private final GGUFFile file;
    private final Kernels kernels;
    private final GlmDsa model;
    private final KvCache cache;
    private final int contextSize;
    private final int batchSize;
    private final float[] logits;

    private GlmDsaEngine(GGUFFile file, Kernels kernels, int contextSize, int batchSize) {
        this.file = file;
        this.kernels = kernels;
        this.contextSize = contextSize;
        this.batchSize = batchSize;
        this.model = new GlmDsa(file, contextSize, batchSize, kernels);
        this.cache = model.newCache();
        this.logits = new float[model.config().vocabularySize()];
    }

    /**
     * Opens {@code path} (any shard of a split set) with a context of {@code contextSize} tokens (0: the model's own),
     * processing prompts in batches of up to {@code batchSize} tokens on {@code threads} threads.
     */
    public static GlmDsaEngine open(Path path, int contextSize, int batchSize, int threads) throws IOException {
        GGUFFile file = GGUFFile.open(path);
        try {
            return of(file, contextSize, batchSize, threads);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** As {@link #open}, on a file already open; the engine takes it over and closes it. */
    public static GlmDsaEngine of(GGUFFile file, int contextSize, int batchSize, int threads) {
        return of(file, contextSize, batchSize, new VectorKernels(threads));
    }

    /** As {@link #of(GGUFFile, int, int, int)}, computing with {@code kernels}, which the engine takes over and closes. */
    public static GlmDsaEngine of(GGUFFile file, int contextSize, int batchSize, Kernels kernels) {
        try {
            int context = contextSize > 0 ? contextSize : file.metadata().getInt(file.metadata().getString("general.architecture") + ".context_length");
            return new GlmDsaEngine(file, kernels, context, Math.min(batchSize, context));
        } catch (RuntimeException e) {
            kernels.close();
            throw e;
        }
    }

    @Override
    public int vocabularySize() {
        return logits.length;
    }

    @Override
    public int contextSize() {
        return contextSize;
    }

    @Override
    public int position() {
        return cache.position();
    }

    @Override
    public float[] forward(int[] tokens, int offset, int count) {
        if (cache.position() + count > contextSize) {
            throw new ContextFullException(cache.position(), count, contextSize);
        }
        for (int done = 0; done < count; done += batchSize) {
            model.forward(cache, tokens, offset + done, Math.min(batchSize, count - done), logits, false);
        }
        return logits;
    }

    @Override
    public void truncate(int position) {
        cache.truncate(position);
    }

    @Override
    public void close() {
        kernels.close();
        file.close();
    }
}
