package glmj.quality;

import glmj.tensor.blocks.LittleEndian;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A KL-divergence base file (llama-perplexity's or glmj's), memory-mapped: its records are read where they lie, never
 * copied onto the heap as a whole (a GLM-5 base holds about 310 KB per scored token). The header and size are checked
 * on opening, so a file cut short by an interrupted run is refused with a message rather than read to its end.
 */
public final class KldBaseReader implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final KldLayout layout;
    private final int[] tokens;

    private KldBaseReader(Path path, Arena arena, MemorySegment data, KldLayout layout, int[] tokens) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.layout = layout;
        this.tokens = tokens;
    }

    /** Opens and checks {@code file}; an {@link IOException} says what is wrong with it. */
    public static KldBaseReader open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            KldLayout layout = header(file, data);
            if (size < layout.headerBytes()) {
                throw new IOException(file + ": ends inside its token list (" + size + " bytes, the header of " + layout
                        + " takes " + layout.headerBytes() + ")");
            }
            if (size != layout.fileBytes()) {
                long chunks = (size - layout.headerBytes()) / layout.chunkBytes();
                throw new IOException(size < layout.fileBytes()
                        ? file + ": holds " + chunks + " of its " + layout.chunkCount() + " chunks (" + size + " of "
                                + layout.fileBytes() + " bytes): cut short"
                        : file + ": has " + (size - layout.fileBytes()) + " bytes after its " + layout.chunkCount() + " chunks");
            }
            int[] tokens = new int[layout.contextSize() * layout.chunkCount()];
            MemorySegment.copy(data, LittleEndian.INT, layout.headerBytes() - 4L * tokens.length, tokens, 0, tokens.length);
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i] < 0 || tokens[i] >= layout.vocabularySize()) {
                    throw new IOException(file + ": token " + i + " is " + tokens[i] + ", outside its vocabulary of "
                            + layout.vocabularySize());
                }
            }
            return new KldBaseReader(file, arena, data, layout, tokens);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The layout the header of {@code data} declares; an IOException if it is not a KL-divergence base. */
    static KldLayout header(Path file, MemorySegment data) throws IOException {
        int magic = KldLayout.MAGIC.length;
        if (data.byteSize() < magic || !Arrays.equals(data.asSlice(0, magic).toArray(ValueLayout.JAVA_BYTE), KldLayout.MAGIC)) {
            throw new IOException(file + ": not a KL-divergence base (it does not start with _logits_)");
        }
        if (data.byteSize() < magic + 12) {
            throw new IOException(file + ": ends inside its header");
        }
        int contextSize = LittleEndian.i32(data, magic);
        int vocabularySize = LittleEndian.i32(data, magic + 4);
        int chunkCount = LittleEndian.i32(data, magic + 8);
        try {
            return new KldLayout(contextSize, vocabularySize, chunkCount);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    public KldLayout layout() {
        return layout;
    }

    /** The tokens of every chunk, one chunk after another, as the file stores them (without any BOS put in). */
    public int[] tokens() {
        return tokens.clone();
    }

    /** The stored record of scored position {@code scored} of chunk {@code chunk}. */
    MemorySegment record(int chunk, int scored) {
        return data.asSlice(layout.recordOffset(chunk, scored), layout.recordBytes());
    }

    /** The stored log-probability of {@code token} at scored position {@code scored} of chunk {@code chunk}. */
    public float logProb(int chunk, int scored, int token) {
        return LogProbs.logProb(record(chunk, scored), token);
    }

    @Override
    public void close() {
        arena.close();
    }
}
