package glmj.hf;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;

/**
 * How a checkpoint's FP8 weights are scaled, from {@code config.json}'s {@code quantization_config} as DeepSeek-V3 and
 * GLM-5-FP8 write it ({@code {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}}): each F8_E4M3
 * weight {@code W} has a tensor {@code W_scale_inv} with one scale per block of {@code blockRows x blockColumns}
 * weights (the blocks at the bottom and right edges are partial), and a weight's value is its E4M3 value times its
 * block's scale, multiplied in f32. Without {@code weight_block_size} a weight has a single scale. With
 * {@code "scale_fmt": "ue8m0"} (DeepSeek-V3.1 and later) every scale is a power of two; scales may then also be stored
 * as F8_E8M0.
 *
 * @param blockRows      rows per scale block, or 0 for one scale per weight
 * @param blockColumns   columns per scale block, or 0 for one scale per weight
 * @param powerOfTwoScales whether the scales must be powers of two (UE8M0)
 */
public record Fp8Scaling(int blockRows, int blockColumns, boolean powerOfTwoScales) {
    /** The suffix of a weight's scale tensor. */
    public static final String SCALE_SUFFIX = "_scale_inv";

    /**
     * The scaling {@code config} declares, or null when it has no {@code quantization_config}.
     *
     * @throws CheckpointFormatException when it declares a quantization glmj does not read
     */
    static Fp8Scaling fromConfig(Path configFile, JsonNode config) {
        JsonNode q = config.get("quantization_config");
        if (q == null || q.isNull()) {
            return null;
        }
        if (!q.isObject()) {
            throw new CheckpointFormatException(configFile, "quantization_config is not an object");
        }
        String method = q.path("quant_method").asText("");
        if (!method.equals("fp8")) {
            throw new CheckpointFormatException(configFile, "quantization_config has quant_method '" + method
                    + "'; glmj reads fp8 (block-scaled E4M3, as GLM-5-FP8 and DeepSeek-V3) and unquantized checkpoints");
        }
        String format = q.path("fmt").asText("e4m3");
        if (!format.equals("e4m3")) {
            throw new CheckpointFormatException(configFile, "quantization_config has fmt '" + format + "'; glmj reads e4m3");
        }
        String scaleFormat = q.path("scale_fmt").asText("float32");
        boolean powerOfTwo = switch (scaleFormat) {
            case "ue8m0" -> true;
            case "float32", "fp32", "float" -> false;
            default -> throw new CheckpointFormatException(configFile, "quantization_config has scale_fmt '" + scaleFormat
                    + "'; glmj reads ue8m0 and float32 scales");
        };
        JsonNode block = q.get("weight_block_size");
        if (block == null || block.isNull()) {
            return new Fp8Scaling(0, 0, powerOfTwo);
        }
        if (!block.isArray() || block.size() != 2 || !block.get(0).canConvertToInt() || !block.get(1).canConvertToInt()
                || block.get(0).asInt() < 1 || block.get(1).asInt() < 1) {
            throw new CheckpointFormatException(configFile, "quantization_config weight_block_size " + block
                    + " is not two positive integers");
        }
        return new Fp8Scaling(block.get(0).asInt(), block.get(1).asInt(), powerOfTwo);
    }

    /** Whether a weight has one scale rather than a grid of blocks. */
    public boolean perTensor() {
        return blockRows == 0;
    }

    /** Scale rows a weight of {@code rows} rows has. */
    long scaleRows(long rows) {
        return perTensor() ? 1 : (rows + blockRows - 1) / blockRows;
    }

    /** Scale columns a weight of {@code columns} columns has. */
    long scaleColumns(long columns) {
        return perTensor() ? 1 : (columns + blockColumns - 1) / blockColumns;
    }

    @Override
    public String toString() {
        String scales = powerOfTwoScales ? "power-of-two scales" : "f32 scales";
        return perTensor() ? "FP8 E4M3, one scale per weight (" + scales + ")"
                : "FP8 E4M3, " + scales + " per " + blockRows + "x" + blockColumns + " block";
    }
}
