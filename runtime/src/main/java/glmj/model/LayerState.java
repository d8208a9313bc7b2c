package glmj.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The file a layer-by-layer run keeps its chunks' hidden states in between layers, mapped: a header (what run it is,
 * how far it got), then per chunk the residual stream after an even and after an odd number of layers (a layer reads
 * one and writes the other, so a run stopped within a chunk still has that chunk's input), and per chunk the indexer's
 * choice for the layers that reuse it. Each chunk's part is written to disk before the header counts it done, so
 * {@link glmj.generate.LayerByLayer#resume()} goes on from the last chunk finished. The last layer keeps only the rows whose logits
 * are wanted, at the front of the chunk's part.
 */
final class LayerState implements AutoCloseable {
    private static final byte[] MAGIC = "GLMJLBL1".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final long HEADER = 4096;
    private static final long LAYERS_DONE = 120;
    private static final long CHUNKS_DONE = 124;

    /**
     * What a run's states are of: chunks of {@code chunkLength} with rows of {@code embedding}, through {@code layers}
     * layers, logits from {@code firstOutput}; {@code selectionBytes} per chunk of reused indexer choices; and the
     * model, by a hash of its tensors.
     */
    record Shape(int chunkLength, int embedding, int layers, int firstOutput, long selectionBytes, byte[] model) {
        long rowBytes() {
            return (long) embedding * Float.BYTES;
        }
    }

    private final Path file;
    private final Shape shape;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int chunks;
    private final long firstToken;
    private final MemorySegment selections;

    private LayerState(Path file, Shape shape, Arena arena, MemorySegment mapped, int chunks, long firstToken) {
        this.file = file;
        this.shape = shape;
        this.arena = arena;
        this.mapped = mapped;
        this.chunks = chunks;
        this.firstToken = firstToken;
        this.selections = mapped.asSlice(statesEnd(), (long) chunks * shape.selectionBytes());
    }

    /**
     * The state of a run over {@code chunks} chunks of {@code tokens} from {@code offset}: with {@code resume} the one
     * {@code file} holds, when it is of this model and these tokens and covers these chunks; else a new one.
     *
     * @throws IllegalStateException naming the file when it cannot be resumed
     */
    static LayerState open(Path file, boolean resume, Shape shape, int[] tokens, int offset, int chunks) {
        try {
            if (resume && Files.exists(file)) {
                return resumed(file, shape, tokens, offset, chunks);
            }
            return created(file, shape, tokens, offset, chunks);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static LayerState created(Path file, Shape shape, int[] tokens, int offset, int chunks) throws IOException {
        Files.deleteIfExists(file);
        LayerState state = map(file, shape, chunks, offset, true);
        MemorySegment header = state.mapped;
        MemorySegment.copy(MAGIC, 0, header, ValueLayout.JAVA_BYTE, 0, MAGIC.length);
        header.set(ValueLayout.JAVA_INT_UNALIGNED, 8, VERSION);
        header.set(ValueLayout.JAVA_INT_UNALIGNED, 12, shape.chunkLength());
        header.set(ValueLayout.JAVA_INT_UNALIGNED, 16, chunks);
        header.set(ValueLayout.JAVA_INT_UNALIGNED, 20, shape.embedding());
        header.set(ValueLayout.JAVA_INT_UNALIGNED, 24, shape.layers());
        header.set(ValueLayout.JAVA_INT_UNALIGNED, 28, shape.firstOutput());
        header.set(ValueLayout.JAVA_LONG_UNALIGNED, 32, offset);
        header.set(ValueLayout.JAVA_LONG_UNALIGNED, 40, shape.selectionBytes());
        MemorySegment.copy(tokenHash(tokens, offset, chunks * shape.chunkLength()), 0, header, ValueLayout.JAVA_BYTE, 48, 32);
        MemorySegment.copy(shape.model(), 0, header, ValueLayout.JAVA_BYTE, 80, 32);
        state.progress(0, 0);
        return state;
    }

    private static LayerState resumed(Path file, Shape shape, int[] tokens, int offset, int chunks) throws IOException {
        long size = Files.size(file);
        if (size < HEADER) {
            throw unusable(file, "it is cut short");
        }
        MemorySegment header = MemorySegment.ofArray(new byte[(int) HEADER]);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            channel.read(header.asByteBuffer(), 0);
        }
        if (!Arrays.equals(header.asSlice(0, MAGIC.length).toArray(ValueLayout.JAVA_BYTE), MAGIC)
                || header.get(ValueLayout.JAVA_INT_UNALIGNED, 8) != VERSION) {
            throw unusable(file, "it is not a layer state of this version of glmj");
        }
        boolean sameShape = header.get(ValueLayout.JAVA_INT_UNALIGNED, 12) == shape.chunkLength()
                && header.get(ValueLayout.JAVA_INT_UNALIGNED, 20) == shape.embedding()
                && header.get(ValueLayout.JAVA_INT_UNALIGNED, 24) == shape.layers()
                && header.get(ValueLayout.JAVA_INT_UNALIGNED, 28) == shape.firstOutput()
                && header.get(ValueLayout.JAVA_LONG_UNALIGNED, 40) == shape.selectionBytes()
                && Arrays.equals(header.asSlice(80, 32).toArray(ValueLayout.JAVA_BYTE), shape.model());
        if (!sameShape) {
            throw unusable(file, "it is of another model or other options");
        }
        int storedChunks = header.get(ValueLayout.JAVA_INT_UNALIGNED, 16);
        long storedFirst = header.get(ValueLayout.JAVA_LONG_UNALIGNED, 32);
        long storedEnd = storedFirst + (long) storedChunks * shape.chunkLength();
        if (storedEnd > tokens.length || !Arrays.equals(header.asSlice(48, 32).toArray(ValueLayout.JAVA_BYTE),
                tokenHash(tokens, (int) storedFirst, (int) (storedEnd - storedFirst)))) {
            throw unusable(file, "it is of another text");
        }
        LayerState state = map(file, shape, storedChunks, storedFirst, false);
        boolean complete = state.layersDone() == shape.layers();
        long end = offset + (long) chunks * shape.chunkLength();
        boolean covered = complete ? offset >= storedFirst && end <= storedEnd && (offset - storedFirst) % shape.chunkLength() == 0
                : offset == storedFirst && chunks == storedChunks;
        if (!covered) {
            state.close();
            throw unusable(file, "it holds chunks " + storedFirst / shape.chunkLength() + " to " + storedEnd / shape.chunkLength()
                    + (complete ? "" : ", not all of them through every layer,") + " and this run asks for chunks "
                    + offset / shape.chunkLength() + " to " + end / shape.chunkLength());
        }
        return state;
    }

    private static LayerState map(Path file, Shape shape, int chunks, long firstToken, boolean create) throws IOException {
        long size = HEADER + 2L * chunks * shape.chunkLength() * shape.rowBytes() + chunks * shape.selectionBytes();
        Arena arena = Arena.ofShared();
        try (FileChannel channel = create
                ? FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (!create && channel.size() != size) {
                arena.close();
                throw unusable(file, "it has " + channel.size() + " bytes, not the " + size + " its header says");
            }
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            return new LayerState(file, shape, arena, mapped, chunks, firstToken);
        } catch (IOException | RuntimeException e) {
            if (arena.scope().isAlive()) {
                arena.close();
            }
            throw e;
        }
    }

    private static IllegalStateException unusable(Path file, String why) {
        return new IllegalStateException(file + ": cannot resume from this layer state, as " + why
                + "; delete it to start the run over");
    }

    private static byte[] tokenHash(int[] tokens, int offset, int count) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] bytes = new byte[count * Integer.BYTES];
            MemorySegment.copy(tokens, offset, MemorySegment.ofArray(bytes), ValueLayout.JAVA_INT_UNALIGNED, 0, count);
            return sha.digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Shape shape() {
        return shape;
    }

    /** Chunks in the run. */
    int chunks() {
        return chunks;
    }

    /** Where chunk {@code chunk}'s tokens start. */
    int firstToken(int chunk) {
        return Math.toIntExact(firstToken + (long) chunk * shape.chunkLength());
    }

    /** The run's chunk that starts at token {@code offset}. */
    int chunkOf(int offset) {
        return Math.toIntExact((offset - firstToken) / shape.chunkLength());
    }

    /** Layers every chunk has passed. */
    int layersDone() {
        return mapped.get(ValueLayout.JAVA_INT_UNALIGNED, LAYERS_DONE);
    }

    /** Chunks that have passed the layer after {@link #layersDone()}. */
    int chunksDone() {
        return mapped.get(ValueLayout.JAVA_INT_UNALIGNED, CHUNKS_DONE);
    }

    /** Reads {@code rows} rows from {@code row} of chunk {@code chunk}'s states after {@code layers} layers into {@code x}. */
    void read(int layers, int chunk, int row, int rows, float[] x) {
        MemorySegment.copy(mapped, ValueLayout.JAVA_FLOAT_UNALIGNED, rowOffset(layers, chunk, row), x, 0,
                rows * shape.embedding());
    }

    /** Writes {@code rows} rows of {@code x} as rows from {@code row} of chunk {@code chunk}'s states after {@code layers} layers. */
    void write(int layers, int chunk, int row, int rows, float[] x) {
        MemorySegment.copy(x, 0, mapped, ValueLayout.JAVA_FLOAT_UNALIGNED, rowOffset(layers, chunk, row),
                rows * shape.embedding());
    }

    /** The indexer's choices of every chunk, which the layers that reuse them read. */
    MemorySegment selections() {
        return selections;
    }

    /** Where chunk {@code chunk}'s part of {@link #selections()} begins. */
    long selectionOffset(int chunk) {
        return chunk * shape.selectionBytes();
    }

    /**
     * Counts chunk {@code chunk} as through layer {@code layer}, once its states (and choices) are on disk: the next
     * layer begins when every chunk has passed.
     */
    void passed(int layer, int chunk) {
        mapped.asSlice(rowOffset(layer + 1, chunk, 0), shape.chunkLength() * shape.rowBytes()).force();
        if (shape.selectionBytes() > 0) {
            selections.asSlice(selectionOffset(chunk), shape.selectionBytes()).force();
        }
        boolean layerDone = chunk + 1 == chunks;
        progress(layerDone ? layer + 1 : layer, layerDone ? 0 : chunk + 1);
    }

    /** The run is over: the file goes. */
    void finished() {
        close();
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void progress(int layers, int chunksDone) {
        mapped.set(ValueLayout.JAVA_INT_UNALIGNED, LAYERS_DONE, layers);
        mapped.set(ValueLayout.JAVA_INT_UNALIGNED, CHUNKS_DONE, chunksDone);
        mapped.asSlice(0, HEADER).force();
    }

    private long statesEnd() {
        return HEADER + 2L * chunks * shape.chunkLength() * shape.rowBytes();
    }

    private long rowOffset(int layers, int chunk, int row) {
        long slot = (long) (layers % 2) * chunks + chunk;
        return HEADER + (slot * shape.chunkLength() + row) * shape.rowBytes();
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
