package glmj.convert;

import glmj.tensor.GGMLType;

/** The GGUF type each converted tensor is written as: a function of the tensor, so that a recipe can choose per tensor. */
public interface TensorTypes {
    GGMLType typeOf(ConvertedTensor tensor);

    /** {@code general.file_type} of the result: llama.cpp's {@code llama_ftype} of its main type. */
    int fileType();
}
