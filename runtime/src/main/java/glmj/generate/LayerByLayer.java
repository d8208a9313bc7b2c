package glmj.generate;

import java.nio.file.Path;

/**
 * A run of many chunks layer by layer, for models larger than memory: every chunk's hidden states pass a layer before
 * the next layer's weights are read, so the model is read from disk once per run and not once per chunk. The hidden
 * states live in {@code stateFile} (mapped; in the run's output directory), saved after each chunk of each layer, so
 * that a run stopped anywhere goes on with {@code resume} from the last chunk it finished. {@code progress} hears each
 * chunk of each stage done.
 */
public record LayerByLayer(Path stateFile, boolean resume, Progress progress) {

    /** Told as a layer-by-layer run moves on. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (stage, stages, chunk, chunks) -> { };

        /**
         * {@code chunk} of {@code chunks} chunks have passed stage {@code stage} of {@code stages}: the model's layers in
         * order, then its output (norm and head) as the last stage.
         */
        void passed(int stage, int stages, int chunk, int chunks);
    }
}
