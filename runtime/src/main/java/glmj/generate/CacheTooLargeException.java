package glmj.generate;

/** The KV cache of the requested context does not fit: in the machine's memory, or in what the JVM allows off its heap. */
public final class CacheTooLargeException extends RuntimeException {
    public CacheTooLargeException(String message) {
        super(message);
    }

    /** The cache of {@code contextSize} tokens, {@code bytes} long, is more than the JVM allows off its heap. */
    public CacheTooLargeException(int contextSize, long bytes) {
        this("the KV cache of a " + contextSize + "-token context needs " + (bytes >> 20) + " MiB off the heap, more than"
                + " the JVM allows (-XX:MaxDirectMemorySize, which defaults to -Xmx): raise it, or lower the context size with -c");
    }
}
