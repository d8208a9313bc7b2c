package glmj.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What a mapped file's pages are doing, through the C library of POSIX systems: {@code madvise(MADV_WILLNEED)} asks
 * the kernel to start reading a range from disk now, without waiting for it, and {@code mincore} tells how much of a
 * range is in memory. Where the C library has neither (Windows), advice does nothing and every page counts as resident.
 */
public final class Paging {
    /** MADV_WILLNEED on Linux and macOS alike. */
    private static final int MADV_WILLNEED = 3;
    /** Pages {@link #residentBytes} asks about per call: its vector's length. */
    private static final int PAGES_PER_CALL = 1 << 16;
    private static final long PAGE = pageSize();
    private static final MethodHandle MADVISE = function("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MINCORE = function("mincore", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));

    private Paging() {
    }

    /**
     * Asks the kernel to read the pages under {@code data} (a slice of a mapped file) from disk now, and returns at
     * once; what is in memory already stays as it is. Allocates nothing.
     */
    public static void willNeed(MemorySegment data) {
        if (MADVISE == null || data.byteSize() == 0) {
            return;
        }
        long start = data.address() & -PAGE;
        long end = data.address() + data.byteSize();
        try {
            int ignored = (int) MADVISE.invokeExact(start, end - start, MADV_WILLNEED);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** How many bytes of the pages under {@code data} are in memory now (a mapped file's pages in the page cache). */
    public static long residentBytes(MemorySegment data) {
        if (MINCORE == null || data.byteSize() == 0) {
            return data.byteSize();
        }
        long start = data.address() & -PAGE;
        long end = data.address() + data.byteSize();
        long resident = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vector = arena.allocate(PAGES_PER_CALL);
            for (long from = start; from < end; from += PAGES_PER_CALL * PAGE) {
                long length = Math.min(end - from, PAGES_PER_CALL * PAGE);
                int status = (int) MINCORE.invokeExact(from, length, vector.address());
                if (status != 0) {
                    return data.byteSize();
                }
                long pages = (length + PAGE - 1) / PAGE;
                for (long p = 0; p < pages; p++) {
                    if ((vector.get(ValueLayout.JAVA_BYTE, p) & 1) != 0) {
                        resident += PAGE;
                    }
                }
            }
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return Math.min(resident, data.byteSize());
    }

    /** Bytes of a page of memory. */
    public static long pageSize() {
        MethodHandle getpagesize = function("getpagesize", FunctionDescriptor.of(JAVA_INT));
        try {
            return getpagesize == null ? 4096 : (int) getpagesize.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static MethodHandle function(String name, FunctionDescriptor descriptor) {
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find(name).map(address -> linker.downcallHandle(address, descriptor)).orElse(null);
    }
}
