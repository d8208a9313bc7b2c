package glmj.convert;

import glmj.tensor.GGMLType;

/**
 * The whole-file output types of llama.cpp's converter ({@code --outtype}), with the type each GGUF tensor takes:
 * the file's type for matrices, F32 where llama.cpp's converter keeps F32 (vectors, {@code *_norm.weight}, biases,
 * the router {@code ffn_gate_inp} and the indexer's {@code indexer.proj}), and F16 for a Q8_0 tensor whose rows are not
 * whole blocks of 32, as the converter falls back.
 */
public enum OutputType implements TensorTypes {
    F32(GGMLType.F32, 0),
    F16(GGMLType.F16, 1),
    BF16(GGMLType.BF16, 32),
    Q8_0(GGMLType.Q8_0, 7);

    /** The type of the file's matrices. */
    public final GGMLType type;
    /** {@code general.file_type}: llama.cpp's {@code llama_ftype}. */
    public final int fileType;

    OutputType(GGMLType type, int fileType) {
        this.type = type;
        this.fileType = fileType;
    }

    @Override
    public GGMLType typeOf(ConvertedTensor tensor) {
        if (keepsF32(tensor)) {
            return GGMLType.F32;
        }
        return tensor.rowLength() % type.blockSize == 0 ? type : GGMLType.F16;
    }

    @Override
    public int fileType() {
        return fileType;
    }

    /** Whether llama.cpp's converter writes {@code tensor} as F32 whatever the output type. */
    public static boolean keepsF32(ConvertedTensor tensor) {
        String name = tensor.name();
        return tensor.shape().length == 1 || name.endsWith("_norm.weight") || !name.endsWith(".weight")
                || name.endsWith(".ffn_gate_inp.weight") || name.endsWith(".indexer.proj.weight");
    }
}
