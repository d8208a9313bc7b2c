package glmj.generate;

/** The KV cache of the requested context does not fit in the memory the JVM allows off its heap. */
public final class CacheTooLargeException extends RuntimeException {
    public CacheTooLargeException(int contextSize, long bytes) {
        super("the KV cache of a " + contextSize + "-token context needs " + (bytes >> 20) + " MiB off the heap, more than"
                + " the JVM allows (-XX:MaxDirectMemorySize, which defaults to -Xmx): raise it, or lower the context size with -c");
    }
}
