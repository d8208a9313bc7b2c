package glmj.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static glmj.gguf.GGUFFormatException.quote;

/**
 * A GGUF model: one file, or a set split by llama-gguf-split ({@code NAME-00001-of-00003.gguf}, ...), opened from any
 * of its shards. Metadata comes from the first shard, tensors from all shards in order. Each shard is mapped once,
 * read-only, in a shared arena; tensor data are views of the mappings, valid until {@link #close()}.
 */
public final class GGUFFile implements TensorSource {
    static final String SPLIT_NO = "split.no";
    static final String SPLIT_COUNT = "split.count";
    static final String SPLIT_TENSORS_COUNT = "split.tensors.count";

    private final Arena arena;
    private final List<GGUFShard> shards;
    private final List<Path> shardPaths;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> tensorsByName;
    private boolean closed;

    private GGUFFile(Arena arena, List<GGUFShard> shards, List<TensorInfo> tensors, Map<String, TensorInfo> byName) {
        this.arena = arena;
        this.shards = List.copyOf(shards);
        this.shardPaths = shards.stream().map(GGUFShard::file).toList();
        this.tensors = List.copyOf(tensors);
        this.tensorsByName = Collections.unmodifiableMap(byName);
    }

    /**
     * Opens {@code anyShard}; when it is part of a split set (its {@code split.count} is above 1, or its name is
     * {@code NAME-0000k-of-0000n.gguf}), opens the whole set.
     *
     * @throws GGUFFormatException when a file is malformed, a shard is missing, or the shards disagree
     */
    public static GGUFFile open(Path anyShard) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            return open(anyShard, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GGUFFile open(Path anyShard, Arena arena) throws IOException {
        GGUFShard opened = map(anyShard, arena);
        SplitName name = SplitName.of(anyShard);
        Metadata meta = opened.metadata();
        int declaredCount = meta.has(SPLIT_COUNT) ? meta.getInt(SPLIT_COUNT) : 1;
        List<GGUFShard> shards = new ArrayList<>();
        if (declaredCount <= 1 && (name == null || name.count() == 1)) {
            shards.add(opened);
        } else {
            if (name == null) {
                throw new GGUFFormatException(anyShard, SPLIT_COUNT + " is " + declaredCount
                        + " but the file name does not end in -NNNNN-of-NNNNN.gguf, so the other shards cannot be found");
            }
            if (!meta.has(SPLIT_COUNT)) {
                throw new GGUFFormatException(anyShard, "missing key '" + SPLIT_COUNT + "' though the file name says it is shard "
                        + name.number() + " of " + name.count());
            }
            if (declaredCount != name.count()) {
                throw new GGUFFormatException(anyShard, SPLIT_COUNT + " is " + declaredCount
                        + " but the file name says there are " + name.count() + " shards");
            }
            for (int n = 1; n <= name.count(); n++) {
                Path sibling = name.sibling(anyShard, n);
                if (!Files.isRegularFile(sibling)) {
                    throw new GGUFFormatException(sibling, "shard " + n + " of " + name.count()
                            + " is missing (the set was opened from " + anyShard.getFileName() + ")");
                }
            }
            for (int n = 1; n <= name.count(); n++) {
                GGUFShard shard = n == name.number() ? opened : map(name.sibling(anyShard, n), arena);
                checkSplitKeys(shard, n, name.count());
                shards.add(shard);
            }
        }
        return assemble(arena, shards);
    }

    private static GGUFShard map(Path file, Arena arena) throws IOException {
        if (Files.isDirectory(file)) {
            throw new GGUFFormatException(file, "is a directory, not a GGUF file");
        }
        MemorySegment mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (FileSystemException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(file + ": cannot be mapped: " + e.getMessage(), e);
        }
        return GGUFShard.parse(file, mapped);
    }

    private static void checkSplitKeys(GGUFShard shard, int number, int count) {
        Metadata meta = shard.metadata();
        int splitNo = meta.getInt(SPLIT_NO);
        if (splitNo != number - 1) {
            throw new GGUFFormatException(shard.file(), SPLIT_NO + " is " + splitNo + ", expected " + (number - 1)
                    + " for shard " + number + " of " + count);
        }
        int splitCount = meta.getInt(SPLIT_COUNT);
        if (splitCount != count) {
            throw new GGUFFormatException(shard.file(), SPLIT_COUNT + " is " + splitCount + " but the set has "
                    + count + " shards");
        }
    }

    private static GGUFFile assemble(Arena arena, List<GGUFShard> shards) {
        List<TensorInfo> tensors = new ArrayList<>();
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (GGUFShard shard : shards) {
            for (TensorInfo t : shard.tensors()) {
                TensorInfo earlier = byName.putIfAbsent(t.name(), t);
                if (earlier != null) {
                    throw new GGUFFormatException(shard.file(), "tensor " + quote(t.name()) + " is also in "
                            + earlier.shard().getFileName());
                }
                tensors.add(t);
            }
        }
        GGUFShard first = shards.getFirst();
        Metadata meta = first.metadata();
        if (shards.size() > 1 || meta.has(SPLIT_TENSORS_COUNT)) {
            long declared = meta.getLong(SPLIT_TENSORS_COUNT);
            if (declared != tensors.size()) {
                throw new GGUFFormatException(first.file(), SPLIT_TENSORS_COUNT + " is " + declared + " but the "
                        + shards.size() + " shard(s) hold " + tensors.size() + " tensors");
            }
        }
        return new GGUFFile(arena, shards, tensors, byName);
    }

    /** The GGUF version of the first shard (2 or 3). */
    public int version() {
        return shards.getFirst().version();
    }

    @Override
    public Path path() {
        return shardPaths.getFirst();
    }

    /** The files of this model, first shard first. */
    public List<Path> shards() {
        return shardPaths;
    }

    /** The metadata of the first shard. */
    @Override
    public Metadata metadata() {
        return shards.getFirst().metadata();
    }

    /** Every tensor, in file order, shard after shard. */
    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public TensorInfo tensor(String name) {
        TensorInfo t = tensorsByName.get(name);
        if (t == null) {
            String where = shards.size() == 1 ? "" : " (in any of its " + shards.size() + " shards)";
            throw new GGUFFormatException(shards.getFirst().file(), "no tensor named " + quote(name) + where);
        }
        return t;
    }

    @Override
    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    /** The data alignment of the first shard ({@code general.alignment}, default 32). */
    public long alignment() {
        return shards.getFirst().alignment();
    }

    /** The offset of the data section in the first shard. */
    public long dataOffset() {
        return shards.getFirst().dataOffset();
    }

    /** Bytes of all tensor data, without padding. */
    public long totalTensorBytes() {
        long total = 0;
        for (TensorInfo t : tensors) {
            total += t.byteSize();
        }
        return total;
    }

    /** Releases the mappings; tensor data segments are unusable afterwards. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "GGUFFile " + shardPaths.getFirst() + " (" + shardPaths.size() + " shard(s), " + tensors.size() + " tensors)";
    }
}
