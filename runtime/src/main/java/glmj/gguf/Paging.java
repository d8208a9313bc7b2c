package glmj.gguf;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Advice on a mapped file's pages, through the C library of POSIX systems: {@code madvise(MADV_WILLNEED)} asks the
 * kernel to start reading a range from disk now, without waiting for it. Where the C library has no {@code madvise}
 * (Windows), advice does nothing. {@code Paging::willNeed} is the {@link PageAdvice} runs give.
 */
public final class Paging {
    /** MADV_WILLNEED on Linux and macOS alike. */
    private static final int MADV_WILLNEED = 3;
    private static final long PAGE = pageSize();
    private static final MethodHandle MADVISE = function("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));

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
