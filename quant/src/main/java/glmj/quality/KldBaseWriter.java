package glmj.quality;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a KL-divergence base record by record, into {@code FILE.partial} beside the target, which gets its name only
 * when every chunk is in: a file under the target's name is always complete, whatever byte a crash stops at. Each
 * chunk is forced to disk once its last record is written, on a thread of its own while the run computes the next
 * chunk, so an interrupted run loses at most the chunk in progress (and, if the machine itself goes down, the one
 * being forced); {@link #resume} checks that a partial file was begun with the same header, cuts it back to its whole
 * chunks, and goes on from there.
 */
public final class KldBaseWriter implements AutoCloseable {
    private final Path target;
    private final Path partial;
    private final KldLayout layout;
    private final FileChannel channel;
    private final int chunksBefore;
    private long records;
    /** Forces whole chunks to disk, one at a time, while the caller goes on. */
    private final ExecutorService forcer = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("glmj-kld-force").factory());
    /** The force of the last whole chunk, until it is known to be done; or null. */
    private Future<?> forcing;

    private KldBaseWriter(Path target, KldLayout layout, FileChannel channel, int chunksBefore) {
        this.target = target;
        this.partial = partialOf(target);
        this.layout = layout;
        this.channel = channel;
        this.chunksBefore = chunksBefore;
        this.records = (long) chunksBefore * layout.scoredPerChunk();
    }

    /** The file a run writes into until it is complete. */
    public static Path partialOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".partial");
    }

    /** Starts a new base for {@code tokens} ({@code layout.chunkCount() * layout.contextSize()} of them). */
    public static KldBaseWriter create(Path target, KldLayout layout, int[] tokens) throws IOException {
        checkTokens(layout, tokens);
        Path partial = partialOf(target);
        FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        try {
            writeFully(partial, channel, header(layout, tokens));
            return new KldBaseWriter(target, layout, channel, 0);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Continues the partial base of an interrupted run: its header must be the one {@code layout} and {@code tokens}
     * make; it is cut back to its last whole chunk. Without a partial file, or one that ends inside its header, starts
     * anew.
     */
    public static KldBaseWriter resume(Path target, KldLayout layout, int[] tokens) throws IOException {
        checkTokens(layout, tokens);
        Path partial = partialOf(target);
        if (!Files.exists(partial) || Files.size(partial) < layout.headerBytes()) {
            return create(target, layout, tokens);
        }
        ByteBuffer expected = header(layout, tokens);
        FileChannel channel = FileChannel.open(partial, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer found = ByteBuffer.allocate(expected.remaining());
            while (found.hasRemaining() && channel.read(found, found.position()) > 0) {
                // read the whole header
            }
            if (!Arrays.equals(found.array(), Arrays.copyOf(expected.array(), expected.remaining()))) {
                throw new IOException(partial + " was begun for another run (its header differs: other text, -c, --chunks"
                        + " or vocabulary); delete it or run without --resume");
            }
            int chunks = (int) Math.min(layout.chunkCount(), (channel.size() - layout.headerBytes()) / layout.chunkBytes());
            channel.truncate(layout.headerBytes() + chunks * layout.chunkBytes());
            channel.position(channel.size());
            return new KldBaseWriter(target, layout, channel, chunks);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void checkTokens(KldLayout layout, int[] tokens) {
        if (tokens.length != layout.contextSize() * layout.chunkCount()) {
            throw new IllegalArgumentException(tokens.length + " tokens for " + layout.chunkCount() + " chunks of "
                    + layout.contextSize());
        }
    }

    private static ByteBuffer header(KldLayout layout, int[] tokens) {
        ByteBuffer header = ByteBuffer.allocate(Math.toIntExact(layout.headerBytes())).order(ByteOrder.LITTLE_ENDIAN);
        header.put(KldLayout.MAGIC).putInt(layout.contextSize()).putInt(layout.vocabularySize()).putInt(layout.chunkCount());
        header.asIntBuffer().put(tokens);
        return header.position(0);
    }

    public KldLayout layout() {
        return layout;
    }

    /** Whole chunks the file held when this writer began (0 unless resumed). */
    public int chunksBefore() {
        return chunksBefore;
    }

    /** Whole chunks written so far, including those before a resume. */
    public int chunksDone() {
        return (int) (records / layout.scoredPerChunk());
    }

    /** The next record's chunk and scored position, as {@code chunk * scoredPerChunk + scored}. */
    public long nextRecord() {
        return records;
    }

    /** The log-probability of {@code token} stored at scored position {@code scored} of a chunk already written. */
    float storedLogProb(int chunk, int scored, int token) throws IOException {
        long record = layout.recordOffset(chunk, scored);
        ByteBuffer values = ByteBuffer.allocate(2 * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer q = ByteBuffer.allocate(Short.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        readFully(values, record);
        readFully(q, record + LogProbs.valueOffset(token));
        return LogProbs.logProb(values.getFloat(0), values.getFloat(Float.BYTES), Short.toUnsignedInt(q.getShort(0)));
    }

    private void readFully(ByteBuffer into, long at) throws IOException {
        while (into.hasRemaining()) {
            if (channel.read(into, at + into.position()) < 0) {
                throw new IOException(partial + ": ends before byte " + (at + into.limit()));
            }
        }
    }

    /** Appends the next record ({@link KldLayout#recordBytes()} bytes); forces the file to disk after a chunk's last. */
    public void write(MemorySegment record) throws IOException {
        if (record.byteSize() != layout.recordBytes()) {
            throw new IllegalArgumentException("a record of " + record.byteSize() + " bytes, expected " + layout.recordBytes());
        }
        if (records == layout.scoredTokens()) {
            throw new IllegalStateException("all " + layout.chunkCount() + " chunks are written");
        }
        writeFully(partial, channel, record.asByteBuffer());
        records++;
        if (records % layout.scoredPerChunk() == 0) {
            awaitForce();
            forcing = forcer.submit(() -> {
                force(false);
                return null;
            });
        }
    }

    /** Gives the complete file its name (replacing any file there) and closes it. */
    public Path finish() throws IOException {
        if (records != layout.scoredTokens()) {
            throw new IllegalStateException("only " + chunksDone() + " of " + layout.chunkCount() + " chunks are written");
        }
        awaitForce();
        force(true);
        close();
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    /** Closes the file; unless {@link #finish} was called, it stays as {@code FILE.partial} for a resume. */
    @Override
    public void close() throws IOException {
        try {
            awaitForce();
        } finally {
            forcer.shutdown();
            channel.close();
        }
    }

    /** Waits for the last chunk's force, if one is under way; its error is this call's. */
    private void awaitForce() throws IOException {
        if (forcing == null) {
            return;
        }
        try {
            forcing.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(partial + ": forcing it to disk failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(partial + ": interrupted while it was forced to disk");
        } finally {
            forcing = null;
        }
    }

    /** Forces what is written to disk; an error names the file. */
    private void force(boolean metadata) throws IOException {
        try {
            channel.force(metadata);
        } catch (IOException e) {
            throw naming(partial, e);
        }
    }

    private static void writeFully(Path file, FileChannel channel, ByteBuffer bytes) throws IOException {
        try {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        } catch (IOException e) {
            throw naming(file, e);
        }
    }

    /** The error with the file it concerns: a failed write says only why ("No space left on device"). */
    private static IOException naming(Path file, IOException e) {
        return e instanceof FileSystemException ? e : new IOException(file + ": " + e.getMessage(), e);
    }
}
