package glmj.model;

import glmj.generate.CacheTooLargeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One sequence's cache of a {@link GlmDsa} model, f16 off the heap as llama.cpp's default cache: per token and layer
 * the normalized compressed latent (kv_lora) then the rotated rope key, and for layers with a full indexer the
 * indexer's key. Each session has its own; a layer's part is addressable, so a runner can pass many sequences through
 * one layer before the next ({@link GlmDsa#layer}). Freed when unreachable.
 */
public final class KvCache {
    private static final long F16_BYTES = 2;
    private final MemorySegment[] latents;
    private final MemorySegment[] indexerKeys;
    /** Per token: the bytes of a layer's latent, and of its indexer key (0 on layers without). */
    private final long latentBytes;
    private final long[] indexerKeyBytes;
    private final int capacity;
    private int position;

    /** An empty cache of {@code capacity} tokens of the model {@code c} describes: {@link #bytes} off the heap. */
    public KvCache(GlmDsaConfig c, int capacity) {
        this.capacity = capacity;
        latents = new MemorySegment[c.layerCount()];
        indexerKeys = new MemorySegment[c.layerCount()];
        latentBytes = F16_BYTES * latentLength(c);
        indexerKeyBytes = new long[c.layerCount()];
        // off the heap, so the heap stays small whatever the context
        Arena arena = Arena.ofAuto();
        try {
            for (int il = 0; il < c.layerCount(); il++) {
                latents[il] = arena.allocate(capacity * latentBytes, 64);
                if (c.indexerFull()[il]) {
                    indexerKeyBytes[il] = F16_BYTES * c.indexerHeadLength();
                    indexerKeys[il] = arena.allocate(capacity * indexerKeyBytes[il], 64);
                }
            }
        } catch (OutOfMemoryError notReserved) {
            throw new CacheTooLargeException(capacity, bytes(c, capacity));
        }
    }

    /**
     * The bytes of a cache of {@code capacity} tokens: per token and layer the latent and the rope key, and on
     * full-indexer layers the indexer's key, all f16 (GLM-5: 2 x (512 + 64 + 128) = 1,408 bytes per token and layer).
     */
    public static long bytes(GlmDsaConfig c, int capacity) {
        long perToken = 0;
        for (int il = 0; il < c.layerCount(); il++) {
            perToken += F16_BYTES * (latentLength(c) + (c.indexerFull()[il] ? c.indexerHeadLength() : 0));
        }
        return perToken * capacity;
    }

    /** A cached latent's length: the compressed latent (kv_lora) and the rope key. */
    private static int latentLength(GlmDsaConfig c) {
        return c.kvLoraRank() + c.ropeLength();
    }

    /** The bytes the cache holds off the heap. */
    public long byteSize() {
        long bytes = 0;
        for (int il = 0; il < latents.length; il++) {
            bytes += latents[il].byteSize() + (indexerKeys[il] == null ? 0 : indexerKeys[il].byteSize());
        }
        return bytes;
    }

    /** Tokens the cache holds at most. */
    public int capacity() {
        return capacity;
    }

    /** Tokens in the cache: the position the next token gets. */
    public int position() {
        return position;
    }

    /** Forgets every cached token from {@code position} on; {@code 0} empties the cache. */
    public void truncate(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot truncate a cache of " + position + " tokens to " + newPosition);
        }
        position = newPosition;
    }

    /** Counts {@code count} tokens whose every layer has been cached at the position as cached. */
    public void advance(int count) {
        if (count < 0 || position + count > capacity) {
            throw new IllegalArgumentException("cannot advance a cache of " + position + " of " + capacity + " tokens by " + count);
        }
        position += count;
    }

    /**
     * Replaces this cache's tokens with copies of {@code source}'s. The source may be another model's if its cache has
     * the same layout (layers, latent and indexer key widths), as a narrow model's filling the context of a wide one
     * for a benchmark at depth.
     *
     * @throws IllegalArgumentException when the layouts differ or the source holds more tokens than this cache can
     */
    public void copyFrom(KvCache source) {
        if (source.latents.length != latents.length || source.latentBytes != latentBytes
                || !Arrays.equals(source.indexerKeyBytes, indexerKeyBytes)) {
            throw new IllegalArgumentException("the caches' layouts differ: " + source.layout() + " against " + layout());
        }
        if (source.position > capacity) {
            throw new IllegalArgumentException("a cache of " + source.position + " tokens does not fit in one of " + capacity);
        }
        for (int il = 0; il < latents.length; il++) {
            MemorySegment.copy(source.latents[il], 0, latents[il], 0, source.position * latentBytes);
            if (indexerKeys[il] != null) {
                MemorySegment.copy(source.indexerKeys[il], 0, indexerKeys[il], 0, source.position * indexerKeyBytes[il]);
            }
        }
        position = source.position;
    }

    /** The layout {@link #copyFrom} compares, in words. */
    private String layout() {
        long keyed = Arrays.stream(indexerKeyBytes).filter(bytes -> bytes > 0).count();
        long keyBytes = Arrays.stream(indexerKeyBytes).max().orElse(0);
        return latents.length + " layers of " + latentBytes + "-byte latents, " + keyed + " with " + keyBytes + "-byte indexer keys";
    }

    /** Layer {@code layer}'s latents and rope keys. */
    public MemorySegment latents(int layer) {
        return latents[layer];
    }

    /** Layer {@code layer}'s indexer keys; null for a layer that reuses an earlier layer's choice. */
    public MemorySegment indexerKeys(int layer) {
        return indexerKeys[layer];
    }
}
