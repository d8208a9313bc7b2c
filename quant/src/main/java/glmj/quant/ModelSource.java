package glmj.quant;

import glmj.convert.CheckpointConverter;
import glmj.convert.GlmDsaTensorMap;
import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFFormatException;
import glmj.gguf.GGUFWriter;
import glmj.gguf.TensorInfo;
import glmj.hf.HfCheckpoint;
import glmj.tensor.GGMLType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model a quantization reads: a GLM-5 Hugging Face checkpoint (FP8 or BF16 safetensors, converted as llama.cpp's
 * converter converts it) or a glm-dsa GGUF file or split set (requantized as llama-quantize requantizes it). Its tensors
 * stay in the mapped files; they are read row range by row range.
 */
public interface ModelSource extends AutoCloseable {

    /**
     * Opens {@code path}: a checkpoint directory, or any file of a GGUF model. {@code name} becomes
     * {@code general.name} (null: the checkpoint directory's name, or the GGUF's own).
     */
    static ModelSource open(Path path, String name) throws IOException {
        if (Files.isDirectory(path)) {
            HfCheckpoint checkpoint = HfCheckpoint.open(path);
            try {
                return new Checkpoint(checkpoint, GlmDsaTensorMap.of(checkpoint),
                        name != null ? name : path.toAbsolutePath().normalize().getFileName().toString());
            } catch (RuntimeException e) {
                checkpoint.close();
                throw e;
            }
        }
        GGUFFile file = GGUFFile.open(path);
        try {
            String architecture = file.metadata().getString("general.architecture");
            if (!architecture.equals("glm-dsa")) {
                throw new GGUFFormatException(path, "general.architecture is '" + architecture
                        + "'; glmj quantizes glm-dsa (GLM-5) models");
            }
            return new Gguf(file, name);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The checkpoint directory, or the GGUF's first file. */
    Path path();

    /** Every tensor of the glm-dsa GGUF it makes, in writing order. */
    List<? extends SourceTensor> tensors();

    /** A writer holding the model's keys and tokenizer with {@code general.file_type} {@code fileType}; no tensors. */
    GGUFWriter metadata(FileType fileType) throws IOException;

    @Override
    void close();

    /** A checkpoint, mapped as llama.cpp's converter maps it. */
    record Checkpoint(HfCheckpoint checkpoint, GlmDsaTensorMap map, String name) implements ModelSource {
        @Override
        public Path path() {
            return checkpoint.directory();
        }

        @Override
        public List<? extends SourceTensor> tensors() {
            return map.tensors();
        }

        @Override
        public GGUFWriter metadata(FileType fileType) throws IOException {
            return CheckpointConverter.metadata(checkpoint, map, name, fileType.id);
        }

        @Override
        public void close() {
            checkpoint.close();
        }
    }

    /** A GGUF model: its keys as they are (but the split keys and an earlier quantization's), its tensors dequantized. */
    record Gguf(GGUFFile file, String name, List<SourceTensor> tensors) implements ModelSource {
        Gguf(GGUFFile file, String name) {
            this(file, name, file.tensors().stream().<SourceTensor>map(GgufTensor::new).toList());
        }

        @Override
        public Path path() {
            return file.path();
        }

        @Override
        public GGUFWriter metadata(FileType fileType) {
            GGUFWriter w = GGUFWriter.metadataOf(file);
            file.metadata().keys().stream().filter(key -> key.startsWith("quantize.")).forEach(w::remove);
            if (name != null) {
                w.putString("general.name", name);
            }
            return w.putUInt32("general.file_type", fileType.id);
        }

        @Override
        public void close() {
            file.close();
        }
    }

    /** A GGUF tensor, its rows dequantized as ggml dequantizes them. */
    record GgufTensor(TensorInfo info) implements SourceTensor {
        @Override
        public String name() {
            return info.name();
        }

        @Override
        public long[] shape() {
            return info.shape();
        }

        @Override
        public GGMLType storedType() {
            return info.type();
        }

        @Override
        public MemorySegment storedData() {
            return info.data();
        }

        @Override
        public GGMLType unquantizedType() {
            return info.type();
        }

        @Override
        public int rowLength() {
            return Math.toIntExact(info.rowLength());
        }

        @Override
        public void readRows(long firstRow, int rows, float[] dst, int at) {
            info.type().dequantize(info.data(), firstRow * info.rowByteSize(), dst, at, rows * rowLength());
        }
    }
}
