package glmj.engine;

import glmj.gguf.Paging;
import glmj.gguf.TensorInfo;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Reads a model's weights into memory ahead of their first use, on a thread of its own: the tensors decoding reads, in
 * the file's order, touched page by page, so the disk reads long runs at its full speed and the pages end up mapped,
 * where the first prompt's faults would read them scattered. On Linux the tensors are read in as huge pages
 * ({@link Paging#hugePages}), for which the kernel reads ahead by itself; elsewhere each chunk is asked of the kernel
 * ahead ({@link Paging#willNeed}). On a file already in memory it costs a fraction of a second.
 */
public final class PageIn implements AutoCloseable {
    /** Bytes touched between progress updates and asked ahead of them. */
    private static final long CHUNK = 64L << 20;
    /** Chunks asked of the kernel ahead of the one being touched. */
    private static final int CHUNKS_AHEAD = 4;

    /** The weights to read, in chunks of at most {@link #CHUNK} bytes. */
    private final List<MemorySegment> chunks = new ArrayList<>();
    private final long total;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread thread;
    private volatile long done;
    private volatile boolean stopped;
    private volatile RuntimeException failure;

    private PageIn(List<MemorySegment> segments) {
        for (MemorySegment segment : segments) {
            for (long from = 0; from < segment.byteSize(); from += CHUNK) {
                chunks.add(segment.asSlice(from, Math.min(CHUNK, segment.byteSize() - from)));
            }
        }
        this.total = segments.stream().mapToLong(MemorySegment::byteSize).sum();
        this.thread = Thread.ofPlatform().daemon().name("glmj-page-in").unstarted(this::run);
    }

    /** Starts reading {@code tensors} in. */
    public static PageIn start(List<TensorInfo> tensors) {
        PageIn pageIn = new PageIn(tensors.stream().map(TensorInfo::data).toList());
        pageIn.thread.start();
        return pageIn;
    }

    /** Bytes to read in. */
    public long total() {
        return total;
    }

    /** Bytes read in so far. */
    public long done() {
        return done;
    }

    /** Waits at most {@code millis} for the weights to be in; returns whether they are. */
    public boolean await(long millis) throws InterruptedException {
        boolean in = finished.await(millis, TimeUnit.MILLISECONDS);
        if (in && failure != null) {
            throw failure;
        }
        return in;
    }

    private void run() {
        try {
            long page = Paging.pageSize();
            boolean hugePages = true;
            for (MemorySegment chunk : chunks) {
                hugePages &= Paging.hugePages(chunk);
            }
            for (int c = 0; c < chunks.size() && !stopped; c++) {
                // without huge pages the kernel is asked to read CHUNKS_AHEAD chunks ahead of the one being touched
                // (asked with them, it reads many in small pages and is slower)
                if (!hugePages) {
                    for (int ahead = c == 0 ? 0 : CHUNKS_AHEAD; ahead <= CHUNKS_AHEAD && c + ahead < chunks.size(); ahead++) {
                        Paging.willNeed(chunks.get(c + ahead));
                    }
                }
                MemorySegment chunk = chunks.get(c);
                for (long at = 0; at < chunk.byteSize(); at += page) {
                    chunk.get(ValueLayout.JAVA_BYTE, at);
                }
                chunk.get(ValueLayout.JAVA_BYTE, chunk.byteSize() - 1); // the last page, when the chunk starts within one
                done += chunk.byteSize();
            }
        } catch (RuntimeException e) {
            if (!stopped) {
                failure = e;
            }
        } finally {
            finished.countDown();
        }
    }

    /** Stops reading and waits for the thread to end. */
    @Override
    public void close() {
        stopped = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
