package glmj.convert;

import glmj.hf.CheckpointTensor;
import glmj.quant.SourceTensor;
import glmj.tensor.GGMLType;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A tensor of the glm-dsa GGUF as llama.cpp's converter makes it from checkpoint weights: its GGUF name and shape
 * (ggml order, {@code shape()[0]} the row length) and its f32 values, read row range by row range straight from the
 * mapped checkpoint, exactly (FP8 times its scale in f32, as the converter's dequantization). Reading allocates
 * nothing; any number of threads may read different rows at once.
 */
public interface ConvertedTensor extends SourceTensor {

    /** The checkpoint weights it is made of. */
    List<CheckpointTensor> sources();

    /** Bytes of the checkpoint it reads: its sources' values and scales. */
    default long sourceBytes() {
        return sources().stream().mapToLong(CheckpointTensor::storedBytes).sum();
    }

    /** Nothing: checkpoint weights are not stored in a ggml type. */
    @Override
    default GGMLType storedType() {
        return null;
    }

    @Override
    default MemorySegment storedData() {
        return null;
    }

    /** F32, as llama.cpp's converter writes the tensors llama-quantize leaves alone. */
    @Override
    default GGMLType unquantizedType() {
        return GGMLType.F32;
    }
}
