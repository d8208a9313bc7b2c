package glmj.engine;

import glmj.generate.CacheTooLargeException;
import glmj.gguf.ActiveWeights;

import java.nio.file.Path;
import java.util.Locale;

/**
 * What a run of a model needs in memory against what the machine has, known before any weight is read: the file, the
 * weights decoding reads ({@link ActiveWeights}), one session's KV cache for the context, and the machine's memory.
 * Weights stay in the mapping: when those decoding reads and the cache do not fit in the available memory, the kernel
 * keeps what was read last and decoding reads the rest from disk again, which {@link #residencyWarning} estimates.
 *
 * @param file        the model (its first shard)
 * @param fileBytes   the bytes of all its shards
 * @param contextSize tokens the context holds
 * @param cacheBytes  one session's KV cache of {@code contextSize} tokens
 */
public record MemoryPlan(Path file, long fileBytes, ActiveWeights weights, int contextSize, long cacheBytes, MachineMemory machine) {

    /** Whether what decoding reads and the KV cache fit in the available memory, so that decoding reads no disk. */
    public boolean weightsStayResident() {
        return weights.workingSet() + cacheBytes <= machine.available();
    }

    /**
     * The share of the routed experts that can stay in memory beside the cache and the weights every step reads: the
     * kernel keeps the pages used most, and those every step reads go first.
     */
    public double residentExpertShare() {
        long left = Math.max(0, machine.available() - cacheBytes - weights.everyToken());
        return weights.routedExperts() == 0 ? 1 : Math.min(1, (double) left / weights.routedExperts());
    }

    /** About how many bytes a decode step reads from disk: none when the weights stay resident. */
    public long diskBytesPerToken() {
        if (weightsStayResident()) {
            return 0;
        }
        long everyTokenMissing = Math.max(0, weights.everyToken() - Math.max(0, machine.available() - cacheBytes));
        return everyTokenMissing + Math.round(weights.routedPerToken() * (1 - residentExpertShare()));
    }

    /** One line: what the run needs and what the machine has. */
    public String statement() {
        return String.format(Locale.ROOT, "%s: %s file, %s of weights read per token (%s in all), a KV cache of %s for %,d"
                        + " tokens; the machine has %s of memory, %s available",
                file.getFileName(), Units.bytes(fileBytes), Units.bytes(weights.perToken()), Units.bytes(weights.workingSet()),
                Units.bytes(cacheBytes), contextSize, Units.bytes(machine.total()), Units.bytes(machine.available()));
    }

    /**
     * One line saying that the weights will not stay in memory and how fast decoding can then be, or null when they
     * will.
     */
    public String residencyWarning() {
        if (weightsStayResident()) {
            return null;
        }
        long disk = diskBytesPerToken();
        return String.format(Locale.ROOT, "the weights decoding reads (%s) and the KV cache (%s) do not fit in the %s of"
                        + " memory available: about %.0f%% of the routed experts stay in memory, so a token reads about %s"
                        + " from disk and decoding runs at most %.2f tokens/s per GB/s the disk reads; going on",
                Units.bytes(weights.workingSet()), Units.bytes(cacheBytes), Units.bytes(machine.available()),
                100 * residentExpertShare(), Units.bytes(disk), 1e9 / disk);
    }

    /** Fails in one line when the KV cache alone does not fit in the available memory. */
    public void checkCache() {
        if (cacheBytes > machine.available()) {
            throw new CacheTooLargeException(String.format(Locale.ROOT, "the KV cache of a %,d-token context needs %s, more"
                            + " than the %s of memory available (%s in all): lower the context size with -c", contextSize,
                    Units.bytes(cacheBytes), Units.bytes(machine.available()), Units.bytes(machine.total())));
        }
    }
}
