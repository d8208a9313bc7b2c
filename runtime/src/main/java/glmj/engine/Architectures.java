package glmj.engine;

import glmj.gguf.PageAdvice;
import glmj.gguf.TensorSource;
import glmj.kernel.Kernels;
import glmj.model.GlmDsaConfig;
import glmj.model.GlmDsaEngine;

import java.util.Map;

/** The architectures glmj's engine runs, by {@code general.architecture}: adding one is one entry here. */
public final class Architectures {

    /**
     * One architecture: how glmj's engine opens a model of it, validating every tensor it needs first (asking the OS
     * {@code expertAdvice}, unless null, of the routed experts' pages as soon as they are chosen), and how many bytes one
     * session's KV cache of a context takes (0 tokens: the model's own context).
     */
    public record Architecture(Opener opener, CacheSize cacheSize) {
        public Engine open(TensorSource source, int contextSize, int batchSize, Kernels kernels, PageAdvice expertAdvice) {
            return opener.open(source, contextSize, batchSize, kernels, expertAdvice);
        }

        public long cacheBytes(TensorSource source, int contextSize) {
            return cacheSize.bytes(source, contextSize);
        }
    }

    @FunctionalInterface
    public interface Opener {
        Engine open(TensorSource source, int contextSize, int batchSize, Kernels kernels, PageAdvice expertAdvice);
    }

    @FunctionalInterface
    public interface CacheSize {
        long bytes(TensorSource source, int contextSize);
    }

    private static final Map<String, Architecture> BY_NAME = Map.of(GlmDsaConfig.ARCHITECTURE,
            new Architecture(GlmDsaEngine::of, GlmDsaEngine::cacheBytes));

    private Architectures() {
    }

    /** The architecture of {@code source}; one line naming the file when glmj runs no such one. */
    public static Architecture of(TensorSource source) {
        String name = source.metadata().getString("general.architecture", "");
        Architecture architecture = BY_NAME.get(name);
        if (architecture == null) {
            throw new UnsupportedModelException(source.path(), "general.architecture is '" + name + "'; glmj runs "
                    + String.join(", ", BY_NAME.keySet()));
        }
        return architecture;
    }
}
