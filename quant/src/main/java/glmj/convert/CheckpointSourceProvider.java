package glmj.convert;

import glmj.engine.SourceProvider;
import glmj.gguf.TensorSource;
import glmj.hf.HfCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** GLM-5 Hugging Face checkpoint directories as models ({@link CheckpointSource}), for {@link glmj.engine.Models#open}. */
public final class CheckpointSourceProvider implements SourceProvider {
    @Override
    public boolean accepts(Path path) {
        return Files.isDirectory(path) && Files.isRegularFile(path.resolve(HfCheckpoint.CONFIG));
    }

    @Override
    public TensorSource open(Path path) throws IOException {
        return CheckpointSource.open(path);
    }
}
