package glmj.engine;

import glmj.chat.ChatFormat;
import glmj.generate.ChunkLogits;
import glmj.generate.LayerByLayer;
import glmj.generate.Session;
import glmj.tokenizer.Tokenizer;

import java.nio.file.Path;

/**
 * A model loaded for use: its engine, tokenizer and chat format, and the sessions it hands out. {@code engineName}
 * says what runs it, with the java engine's kernels ({@code java/ggml}, {@code java/vector/exact}); {@code pageIn} the java
 * engine's weights being read in, null on an engine that reads them itself. Closing it closes the engine.
 */
public record Model(Engine engine, Tokenizer tokenizer, ChatFormat chatFormat, Path path, String engineName, PageIn pageIn) implements AutoCloseable {

    /** A new session with an empty context. */
    public Session newSession() {
        return engine.newSession();
    }

    /** Logits of chunks of {@code chunkLength} tokens, each from an empty context (see {@link Engine#chunkLogits(int)}). */
    public ChunkLogits chunkLogits(int chunkLength) {
        return engine.chunkLogits(chunkLength);
    }

    /** Logits of chunks run layer by layer (see {@link Engine#chunkLogits(int, LayerByLayer)}). */
    public ChunkLogits chunkLogits(int chunkLength, LayerByLayer layered) {
        return engine.chunkLogits(chunkLength, layered);
    }

    /** Tokens each session's context holds at most. */
    public int contextSize() {
        return engine.contextSize();
    }

    @Override
    public void close() {
        if (pageIn != null) {
            pageIn.close();
        }
        engine.close();
    }
}
