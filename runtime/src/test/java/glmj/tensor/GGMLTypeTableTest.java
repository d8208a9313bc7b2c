package glmj.tensor;

import glmj.kernel.GgmlPrompt;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every row of the type table is whole: a type either kernel backend can multiply can also be read (an embedding row,
 * a panel), and the vector backend's columns come together (its activation form, dot kernel and row decoder), so a
 * missing column fails here rather than when a model with that type runs.
 */
class GGMLTypeTableTest {

    @Test
    void everyRowAModelCanUseIsComplete() {
        List<String> incomplete = new ArrayList<>();
        for (GGMLType type : GGMLType.values()) {
            boolean multiplied = type.isVectorMultiplied() || type.ggmlPrompt() != GgmlPrompt.NONE;
            boolean readable = type.isBlockScaled() || type.isReadable() && type.rowDecoder() != null;
            if (multiplied && !readable) {
                incomplete.add(type + ": a backend multiplies it, but it has no dequantizer");
            }
            if (type.isVectorMultiplied() != (type.vecDotType() != null)) {
                incomplete.add(type + ": a dot kernel (or a scaled row decoder) needs its activation form and the form its kernel");
            }
            if (type.dotKernel() != null && type.isBlockScaled()) {
                incomplete.add(type + ": a block-scaled type is multiplied as decoded rows, not by a dot kernel without its scales");
            }
            if (type.isBlockScaled() && (type.hasGgufId() || type.ggmlPrompt() != GgmlPrompt.NONE || type.isReadable())) {
                incomplete.add(type + ": a block-scaled type is no ggml type: no GGUF id, no ggml kernel, no dequantizer without its scales");
            }
            if (type.dotKernel() != null && type.vecDotType().blockSize != Math.min(type.blockSize, type.vecDotType().blockSize)) {
                incomplete.add(type + ": its blocks of " + type.blockSize + " are not whole " + type.vecDotType() + " blocks");
            }
            if (type.decodesRowsInVectors() && (type.dotKernel() == null || !type.vecDotType().quantized())) {
                incomplete.add(type + ": a vector row decoder serves the panels, which only quantized types with a dot kernel take");
            }
            if (type.quantizer() != null && !type.isReadable()) {
                incomplete.add(type + ": it can be written but not read back");
            }
        }
        assertEquals(List.of(), incomplete);
    }

    @Test
    void theTypesOfGlm5BuildsHaveEveryColumn() {
        for (GGMLType type : List.of(GGMLType.F32, GGMLType.Q8_0, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K,
                GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_XS)) {
            assertEquals(true, type.dotKernel() != null && type.ggmlPrompt() != GgmlPrompt.NONE && type.isReadable(), type.name());
        }
    }
}
