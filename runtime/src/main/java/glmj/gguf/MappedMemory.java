package glmj.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Memory a model's tensors live in, handed back to the operating system when a run is done with it: mapped pages of a
 * file leave the page cache ({@code madvise(MADV_PAGEOUT)} on Linux; elsewhere they are unmapped from the process, and
 * the system's cache may keep them), and memory reserved for tensors computed at load ({@link #reserve}) is given up
 * page by page ({@link #discard}) and mapped again, empty, at the same addresses. A run that goes layer by layer over
 * a model larger than memory releases each layer when done with it, so that each weight is read from disk once.
 */
public final class MappedMemory {
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_FIXED = 0x10;
    private static final int MAP_ANONYMOUS = Paging.LINUX ? 0x20 : 0x1000;
    /** Linux: reserve no swap for memory that is only address space until written. */
    private static final int MAP_NORESERVE = Paging.LINUX ? 0x4000 : 0;
    /** Linux 5.4 and later: reclaim the pages (clean file pages leave the page cache when no one else maps them). */
    private static final int MADV_PAGEOUT = 21;
    private static final long PAGE = 4096;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    private MappedMemory() {
    }

    /**
     * Lets the pages of a mapped file's {@code segment} go (those it shares with its neighbours too): they are read
     * from disk again when next touched. Other segments (on the heap, or allocated) are left alone.
     */
    public static void release(MemorySegment segment) {
        if (!segment.isMapped() || segment.byteSize() == 0) {
            return;
        }
        if (!Paging.LINUX || !Paging.advise(segment, MADV_PAGEOUT)) {
            segment.unload();
        }
    }

    /**
     * {@code bytes} of address space, zeros when read, that take memory only where written; unmapped when {@code arena}
     * closes. Pages can be given back with {@link #discard}.
     */
    public static MemorySegment reserve(long bytes, Arena arena) {
        long size = Math.max(PAGE, (bytes + PAGE - 1) & -PAGE);
        MemorySegment base = mmap(0, size, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
        return base.reinterpret(size, arena, segment -> munmap(segment.address(), size)).asSlice(0, bytes);
    }

    /**
     * Gives back the memory of {@code segment}, a slice of {@link #reserve}d memory starting on a page, whose pages it
     * must not share with other data: it reads as zeros afterwards and takes memory again where written.
     */
    public static void discard(MemorySegment segment) {
        if (segment.address() % PAGE != 0) {
            throw new IllegalArgumentException("a segment at " + segment.address() + " does not start on a page");
        }
        long size = (segment.byteSize() + PAGE - 1) & -PAGE;
        if (size > 0) {
            mmap(segment.address(), size, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED);
        }
    }

    /** Bytes {@code bytes} takes rounded up to whole pages: where the next page-aligned part of reserved memory starts. */
    public static long pages(long bytes) {
        return (bytes + PAGE - 1) & -PAGE;
    }

    private static MemorySegment mmap(long address, long size, int flags) {
        try {
            MemorySegment mapped = (MemorySegment) MMAP.invokeExact(MemorySegment.ofAddress(address), size, PROT_READ_WRITE,
                    flags, -1, 0L);
            if (mapped.address() == -1L || (address != 0 && mapped.address() != address)) {
                throw new OutOfMemoryError("could not map " + size + " bytes of memory");
            }
            return mapped;
        } catch (Error | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static void munmap(long address, long size) {
        try {
            int status = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), size);
            assert status == 0;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
