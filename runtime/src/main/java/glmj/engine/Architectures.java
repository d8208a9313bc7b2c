package glmj.engine;

import glmj.gguf.TensorSource;
import glmj.kernel.Kernels;
import glmj.model.GlmDsaConfig;
import glmj.model.GlmDsaEngine;

import java.util.Map;

/** The architectures glmj's engine runs, by {@code general.architecture}: adding one is one entry here. */
public final class Architectures {

    /** Opens a model of one architecture on glmj's engine, validating every tensor it needs first. */
    @FunctionalInterface
    public interface Architecture {
        Engine open(TensorSource source, int contextSize, int batchSize, Kernels kernels);
    }

    private static final Map<String, Architecture> BY_NAME = Map.of(GlmDsaConfig.ARCHITECTURE, GlmDsaEngine::of);

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
