package glmj.gguf;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Advice on a mapped file's pages, through the C library of POSIX systems: {@code madvise(MADV_WILLNEED)} asks the
 * kernel to start reading a range from disk now, without waiting for it; on Linux {@code madvise(MADV_HUGEPAGE)} asks
 * it to read a range in 2 MB pages. Where the C library has no {@code madvise} (Windows), advice does nothing.
 * {@code Paging::willNeed} is the {@link PageAdvice} runs give.
 */
public final class Paging {
    /** Whether this is Linux, whose madvise takes advice (MADV_HUGEPAGE, MADV_PAGEOUT) that macOS has not. */
    static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    /** MADV_WILLNEED on Linux and macOS alike. */
    private static final int MADV_WILLNEED = 3;
    /** Linux's MADV_HUGEPAGE. */
    private static final int MADV_HUGEPAGE = 14;
    /** Whether Linux reads a file mapped with MADV_HUGEPAGE ahead by itself: since 5.18. */
    private static final boolean HUGE_PAGE_READAHEAD = LINUX && atLeast(System.getProperty("os.version", ""), 5, 18);
    private static final long PAGE = pageSize();
    private static final MethodHandle MADVISE = function("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));

    private Paging() {
    }

    /**
     * Asks the kernel to read the pages under {@code data} (a slice of a mapped file) from disk now, and returns at
     * once; what is in memory already stays as it is. Allocates nothing.
     */
    public static void willNeed(MemorySegment data) {
        advise(data, MADV_WILLNEED);
    }

    /**
     * Asks Linux to read the pages under {@code data} (a slice of a mapped file), when they are first touched, into
     * the page cache as 2 MB pages (transparent huge pages) where the file system keeps them so (ext4 since Linux
     * 6.16), each then mapped by one TLB entry where 4 KB pages need 512: a decode step streams every weight once, and
     * its TLB misses slow it. The kernel then reads 4 MB at a fault and the next 2 MB ahead. Pages already in memory
     * keep their size. Returns whether the kernel took the advice and reads ahead so: never elsewhere than on Linux
     * 5.18 or later, nor on a kernel without transparent huge pages.
     */
    public static boolean hugePages(MemorySegment data) {
        return HUGE_PAGE_READAHEAD && advise(data, MADV_HUGEPAGE);
    }

    /** Whether a kernel release such as "6.18.44-generic" is {@code major.minor} or later. */
    static boolean atLeast(String release, int major, int minor) {
        Matcher version = Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        if (!version.find()) {
            return false;
        }
        int releaseMajor = Integer.parseInt(version.group(1));
        return releaseMajor > major || releaseMajor == major && Integer.parseInt(version.group(2)) >= minor;
    }

    /** madvise on the pages under {@code data}; returns whether the kernel took the advice. */
    static boolean advise(MemorySegment data, int advice) {
        if (MADVISE == null || data.byteSize() == 0) {
            return false;
        }
        long start = data.address() & -PAGE;
        long end = data.address() + data.byteSize();
        try {
            return (int) MADVISE.invokeExact(start, end - start, advice) == 0;
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
