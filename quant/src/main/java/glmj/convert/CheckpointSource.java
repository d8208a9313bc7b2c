package glmj.convert;

import glmj.gguf.GGUFWriter;
import glmj.gguf.MappedMemory;
import glmj.gguf.Metadata;
import glmj.gguf.TensorInfo;
import glmj.gguf.TensorSource;
import glmj.hf.CheckpointTensor;
import glmj.hf.Fp8Scaling;
import glmj.hf.HfCheckpoint;
import glmj.hf.SafetensorsDtype;
import glmj.hf.SafetensorsTensor;
import glmj.tensor.BlockScales;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GLM-5 Hugging Face checkpoint directory as a model glmj's engine runs ({@link TensorSource}): the glm-dsa tensors
 * of {@link GlmDsaTensorMap} under their GGUF names and shapes, the metadata and tokenizer llama.cpp's converter would
 * write ({@link GlmDsaMetadata}, {@link HfTokenizer}), and the tensors' data straight from the mapped safetensors:
 * FP8 weights as {@link GGMLType#FP8_E4M3} with their block scales, each routed expert a matrix of its own; BF16, F16
 * and F32 matrices as they are. Two kinds are computed, exactly as the converter computes them, into memory reserved
 * off the heap when first {@linkplain #load loaded} and dropped when {@linkplain #release released}: the tensors
 * llama.cpp's converter always writes as F32 (norms, biases, the router, the indexer's head weights) when stored
 * otherwise, and {@code attn_k_b} and {@code attn_v_b}, which {@code kv_b_proj} splits per head (transposing the
 * keys) so that its FP8 blocks do not survive: those are dequantized to F32. So the engine computes what it computes on
 * the F32 conversion of the checkpoint, but for the BF16 matrices (the head), whose activations it rounds to BF16.
 */
public final class CheckpointSource implements TensorSource {
    private final HfCheckpoint checkpoint;
    private final Metadata metadata;
    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    /** The matrices of the stacked experts, by tensor. */
    private final Map<String, List<TensorInfo>> slices = new LinkedHashMap<>();
    /** The computed tensors, by name, with what they are computed from. */
    private final Map<String, Computed> computed = new LinkedHashMap<>();

    /** A tensor computed at load: where it goes, what from, and whether it is there now. */
    private static final class Computed {
        final MemorySegment target;
        final ConvertedTensor from;
        boolean ready;

        Computed(MemorySegment target, ConvertedTensor from) {
            this.target = target;
            this.from = from;
        }
    }

    private CheckpointSource(HfCheckpoint checkpoint, GlmDsaTensorMap map) throws IOException {
        this.checkpoint = checkpoint;
        GGUFWriter keys = new GGUFWriter();
        GlmDsaMetadata.put(keys, map, checkpoint.directory().getFileName().toString(), 0);
        keys.remove("general.file_type");
        HfTokenizer.put(keys, checkpoint.directory(), checkpoint.config(), map.config().vocabularySize());
        this.metadata = keys.metadata(checkpoint.directory());
        long reserved = 0;
        for (ConvertedTensor t : map.tensors()) {
            reserved += asStored(t) ? 0 : MappedMemory.pages(t.elementCount() * Float.BYTES);
        }
        MemorySegment memory = MappedMemory.reserve(reserved, arena);
        long offset = 0;
        for (ConvertedTensor t : map.tensors()) {
            List<CheckpointTensor> sources = t.sources();
            if (!asStored(t)) {
                long bytes = t.elementCount() * Float.BYTES;
                MemorySegment target = memory.asSlice(offset, bytes);
                offset += MappedMemory.pages(bytes);
                computed.put(t.name(), new Computed(target, t));
                tensors.put(t.name(), new TensorInfo(t.name(), GGMLType.F32, t.shape(), target, checkpoint.directory(), -1));
            } else if (sources.size() > 1) {
                List<TensorInfo> matrices = new ArrayList<>();
                long[] shape = t.shape();
                for (int i = 0; i < sources.size(); i++) {
                    matrices.add(stored(t.name() + "[" + i + "]", new long[] {shape[0], shape[1]}, sources.get(i)));
                }
                slices.put(t.name(), matrices);
                tensors.put(t.name(), new TensorInfo(t.name(), matrices.getFirst().type(), shape, MemorySegment.NULL,
                        sources.getFirst().stored().file(), -1));
            } else {
                tensors.put(t.name(), stored(t.name(), t.shape(), sources.getFirst()));
            }
        }
    }

    /**
     * Whether {@code t} is read as the checkpoint stores it: whole rows of its weights as they are, and F32 where
     * llama.cpp's converter keeps F32; else it is computed.
     */
    private static boolean asStored(ConvertedTensor t) {
        boolean wholeRows = t instanceof GlmDsaTensorMap.Rows rows && rows.groupRows() == 0;
        return wholeRows && (!OutputType.keepsF32(t) || t.sources().stream().allMatch(s -> s.dtype() == SafetensorsDtype.F32));
    }

    /**
     * Opens the checkpoint in {@code directory}.
     *
     * @throws glmj.hf.CheckpointFormatException when it is not a GLM-5 checkpoint glmj reads (one line naming the file)
     */
    public static CheckpointSource open(Path directory) throws IOException {
        HfCheckpoint checkpoint = HfCheckpoint.open(directory);
        try {
            return new CheckpointSource(checkpoint, GlmDsaTensorMap.of(checkpoint));
        } catch (IOException | RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /** A tensor read as the checkpoint stores it: FP8 with its scales, or a float type. */
    private TensorInfo stored(String name, long[] shape, CheckpointTensor t) {
        SafetensorsTensor values = t.stored();
        if (!t.isFp8()) {
            GGMLType type = switch (t.dtype()) {
                case F32 -> GGMLType.F32;
                case F16 -> GGMLType.F16;
                case BF16 -> GGMLType.BF16;
                default -> throw new IllegalStateException(t + " is neither FP8 with scales nor a float type");
            };
            return new TensorInfo(name, type, shape, values.data(), values.file(), -1);
        }
        Fp8Scaling scaling = t.scaling();
        int blockRows = scaling.perTensor() ? Math.toIntExact(t.rowCount()) : scaling.blockRows();
        int blockColumns = scaling.perTensor() ? Math.toIntExact(t.rowLength()) : scaling.blockColumns();
        SafetensorsTensor scales = t.storedScales();
        MemorySegment f32Scales = scales.dtype() == SafetensorsDtype.F32 ? scales.data() : widened(scales);
        return new TensorInfo(name, GGMLType.FP8_E4M3, shape, values.data(), values.file(), -1,
                BlockScales.of(f32Scales, blockRows, blockColumns, t.rowCount(), t.rowLength()));
    }

    /** Scales stored in another type than F32 (BF16, power-of-two E8M0), as f32: a few bytes per block. */
    private MemorySegment widened(SafetensorsTensor scales) {
        MemorySegment f32 = arena.allocate(scales.elementCount() * Float.BYTES, Float.BYTES);
        for (long i = 0; i < scales.elementCount(); i++) {
            f32.set(LittleEndian.FLOAT, i * Float.BYTES, scales.dtype().get(scales.data(), i));
        }
        return f32;
    }

    @Override
    public Path path() {
        return checkpoint.directory();
    }

    @Override
    public Metadata metadata() {
        return metadata;
    }

    @Override
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    @Override
    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public TensorInfo slice(TensorInfo tensor, int index) {
        List<TensorInfo> matrices = slices.get(tensor.name());
        return matrices == null ? TensorSource.super.slice(tensor, index) : matrices.get(index);
    }

    /** Computes the computed tensors among {@code list} that are not there, on every core. */
    @Override
    public synchronized void load(List<TensorInfo> list) {
        List<Computed> missing = list.stream().map(t -> computed.get(t.name())).filter(c -> c != null && !c.ready).toList();
        if (missing.isEmpty()) {
            return;
        }
        try (WorkerThreads threads = new WorkerThreads(Runtime.getRuntime().availableProcessors())) {
            for (Computed c : missing) {
                CheckpointConverter.fill(c.from, GGMLType.F32, c.target, threads);
                c.ready = true;
            }
        }
    }

    /** Lets go of {@code list}'s pages: mapped ones leave the page cache, computed ones are dropped until loaded again. */
    @Override
    public synchronized void release(List<TensorInfo> list) {
        for (TensorInfo t : list) {
            Computed c = computed.get(t.name());
            if (c != null) {
                MappedMemory.discard(c.target);
                c.ready = false;
            } else {
                TensorSource.super.release(slices.getOrDefault(t.name(), List.of(t)));
            }
        }
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
        checkpoint.close();
    }
}
