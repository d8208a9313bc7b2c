package glmj.gguf;

import java.lang.foreign.MemorySegment;

/**
 * Advice on the pages of a mapped range, given as soon as they are known to be needed: {@link Paging#willNeed} passes
 * it to the kernel; tests record it.
 */
@FunctionalInterface
public interface PageAdvice {
    /** The pages under {@code data} will be read soon: read them in now, without waiting for them. */
    void willNeed(MemorySegment data);
}
