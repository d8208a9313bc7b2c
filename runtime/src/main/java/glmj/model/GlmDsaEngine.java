package glmj.model;

import glmj.engine.Engine;
import glmj.generate.ChunkLogits;
import glmj.generate.ContextFullException;
import glmj.generate.LayerByLayer;
import glmj.generate.History;
import glmj.generate.Processing;
import glmj.generate.Session;
import glmj.gguf.GGUFFile;
import glmj.gguf.PageAdvice;
import glmj.gguf.TensorInfo;
import glmj.gguf.TensorSource;
import glmj.kernel.Kernels;
import glmj.kernel.VectorKernels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.concurrent.CancellationException;

/**
 * glmj's own engine: the {@link GlmDsa} forward pass on a model's mapped tensors, handing out sessions that each keep
 * a {@link KvCache} of their own. Sessions share the model's activations, so they run one at a time.
 */
public final class GlmDsaEngine implements Engine {
    private final TensorSource source;
    private final Kernels kernels;
    private final GlmDsa model;
    private final int contextSize;
    private final int batchSize;

    private GlmDsaEngine(TensorSource source, Kernels kernels, int contextSize, int batchSize) {
        this.source = source;
        this.kernels = kernels;
        this.contextSize = contextSize;
        this.batchSize = batchSize;
        this.model = new GlmDsa(source, contextSize, batchSize, kernels);
    }

    /**
     * Opens {@code path} (any shard of a split set) on glmj's vector kernels with contexts of {@code contextSize} tokens
     * (0: the model's own), processing prompts in batches of up to {@code batchSize} tokens on {@code threads} threads.
     */
    public static GlmDsaEngine open(Path path, int contextSize, int batchSize, int threads) throws IOException {
        GGUFFile file = GGUFFile.open(path);
        try {
            return of(file, contextSize, batchSize, new VectorKernels(threads));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** As {@link #open}, on tensors already open, computing with {@code kernels}; the engine takes both over and closes them. */
    public static GlmDsaEngine of(TensorSource source, int contextSize, int batchSize, Kernels kernels) {
        return of(source, contextSize, batchSize, kernels, null);
    }

    /**
     * As {@link #of(TensorSource, int, int, Kernels)}, giving {@code expertAdvice} the chosen experts' pages as soon as
     * they are chosen (see {@link GlmDsa#prefetchExperts}; null: none).
     */
    public static GlmDsaEngine of(TensorSource source, int contextSize, int batchSize, Kernels kernels, PageAdvice expertAdvice) {
        try {
            int context = contextSize > 0 ? contextSize
                    : source.metadata().getInt(source.metadata().getString("general.architecture") + ".context_length");
            GlmDsaEngine engine = new GlmDsaEngine(source, kernels, context, Math.min(batchSize, context));
            engine.model.prefetchExperts(expertAdvice);
            return engine;
        } catch (RuntimeException e) {
            kernels.close();
            throw e;
        }
    }

    /**
     * The bytes of one session's cache of {@code contextSize} tokens (0: the model's own context) of the model in
     * {@code source}: {@link KvCache#bytes}.
     */
    public static long cacheBytes(TensorSource source, int contextSize) {
        GlmDsaConfig c = GlmDsaConfig.from(source.metadata(), 0); // the vocabulary does not size the cache
        return KvCache.bytes(c, contextSize > 0 ? contextSize : c.contextLength());
    }

    /** The forward pass itself, for runners that drive it layer by layer. */
    public GlmDsa model() {
        return model;
    }

    @Override
    public int contextSize() {
        return contextSize;
    }

    @Override
    public Session newSession() {
        source.load(GlmDsaChunks.used(source, model.config()));
        return new GlmDsaSession();
    }

    @Override
    public ChunkLogits chunkLogits(int chunkLength) {
        return new GlmDsaChunks(model, source, chunkLength, batchSize, null, fingerprint());
    }

    @Override
    public ChunkLogits chunkLogits(int chunkLength, LayerByLayer layered) {
        return new GlmDsaChunks(model, source, chunkLength, batchSize, layered, fingerprint());
    }

    /** A hash of every tensor's name, type and shape, and the metadata's keys: which model a layer state is of. */
    private byte[] fingerprint() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (TensorInfo t : source.tensors()) {
                sha.update((t.name() + " " + t.type().ggmlName + " " + Arrays.toString(t.shape()) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            sha.update(source.metadata().keys().toString().getBytes(StandardCharsets.UTF_8));
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        kernels.close();
        source.close();
    }

    /** A session: a cache, the tokens it holds, and the logits buffers. */
    private final class GlmDsaSession implements Session {
        private final KvCache cache = model.newCache();
        private final History history = new History(contextSize);
        private final float[] logits = new float[model.config().vocabularySize()];
        /** A batch's logits, every position's; made when first asked for. */
        private float[] batchLogits;
        private final LayerProgress layerProgress = new LayerProgress();

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
        public float[] forward(int[] tokens, int offset, int count, Processing how) {
            if (cache.position() + count > contextSize) {
                throw new ContextFullException(cache.position(), count, contextSize);
            }
            int vocab = logits.length;
            boolean all = how.allLogits() != null;
            if (all && batchLogits == null) {
                batchLogits = new float[batchSize * vocab];
            }
            for (int done = 0; done < count; done += batchSize) {
                if (how.cancelled().getAsBoolean()) {
                    throw new CancellationException("cancelled after " + done + " of " + count + " tokens");
                }
                int n = Math.min(batchSize, count - done);
                layerProgress.batch(how, done, n);
                model.forward(cache, tokens, offset + done, n, all ? batchLogits : logits, all, layerProgress, how.cancelled());
                history.record(tokens, offset + done, n, cache.position() - n);
                if (all) {
                    System.arraycopy(batchLogits, 0, how.allLogits(), done * vocab, n * vocab);
                    System.arraycopy(batchLogits, (n - 1) * vocab, logits, 0, vocab);
                }
                how.progress().accept(done + n);
            }
            return logits;
        }

        @Override
        public void truncate(int position) {
            cache.truncate(position);
        }

        @Override
        public void copyContextFrom(Session source) {
            if (!(source instanceof GlmDsaSession other)) {
                throw new IllegalArgumentException("glmj's engine cannot take the context of " + source.getClass().getSimpleName());
            }
            cache.copyFrom(other.cache);
            history.recordUnknown(cache.position(), 0);
        }

        /** Within a batch, the tokens done with its layers done counted in proportion, after each layer but the last. */
        private final class LayerProgress implements LayerProbe {
            private Processing how;
            private int before;
            private int batch;

            void batch(Processing processing, int done, int tokens) {
                how = processing;
                before = done;
                batch = tokens;
            }

            @Override
            public void residual(int layer, float[] x, int count) {
                int layers = model.config().layerCount();
                if (layer > 0 && layer < layers) {
                    how.progress().accept(before + (int) ((long) batch * layer / layers));
                }
            }
        }

        @Override
        public int keepCommonPrefix(int[] tokens) {
            int kept = history.commonPrefix(tokens, cache.position());
            cache.truncate(kept);
            return kept;
        }

        @Override
        public void close() {
            // the cache is off-heap memory of an automatic arena: freed when the session is unreachable
        }
    }
}
