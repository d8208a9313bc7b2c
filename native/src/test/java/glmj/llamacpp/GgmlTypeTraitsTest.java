package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import glmj.kernel.GgmlPrompt;
import glmj.tensor.GGMLType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Our table of tensor types against ggml's own type traits, id by id. */
class GgmlTypeTraitsTest {

    @Test
    void everyTypeHasGgmlsNameBlockSizeAndBytes() {
        Oracle.library();
        for (GGMLType type : ggmlTypes()) {
            MemorySegment traits = Ggml.ggml_get_type_traits(type.id);
            String name = Ggml.ggml_type_traits.type_name(traits).reinterpret(64).getString(0);
            assertEquals(type.ggmlName, name, type.name());
            assertEquals(type.blockSize, Ggml.ggml_type_traits.blck_size(traits), type.name());
            assertEquals(type.typeSize, Ggml.ggml_type_traits.type_size(traits), type.name());
        }
    }

    /**
     * The columns of our table that mirror ggml's CPU traits: a type we give one of ggml's prompt kernels has a
     * {@code vec_dot} in ggml, every type we read and ggml multiplies has one of them, and our activation form is
     * ggml's {@code vec_dot_type}.
     */
    @Test
    void kernelColumnsAreGgmlsCpuTraits() {
        Oracle.library();
        for (GGMLType type : ggmlTypes()) {
            MemorySegment traits = GgmlCpu.ggml_get_type_traits_cpu(type.id);
            boolean ggmlMultiplies = !GgmlCpu.ggml_type_traits_cpu.vec_dot(traits).equals(MemorySegment.NULL);
            if (type.isReadable()) {
                assertEquals(ggmlMultiplies, type.ggmlPrompt() != GgmlPrompt.NONE, type.name() + ": ggml has a vec_dot");
            } else {
                assertEquals(GgmlPrompt.NONE, type.ggmlPrompt(), type.name());
            }
            if (type.vecDotType() != null) {
                assertEquals(GGMLType.byId(GgmlCpu.ggml_type_traits_cpu.vec_dot_type(traits)), type.vecDotType().ggmlType(), type.name());
            }
        }
    }

    @Test
    void idsWeLackAreRemovedTypesInGgml() {
        Oracle.library();
        int highest = ggmlTypes().stream().mapToInt(type -> type.id).max().orElseThrow();
        for (int id = 0; id <= highest; id++) {
            if (GGMLType.byId(id) == null) {
                MemorySegment traits = Ggml.ggml_get_type_traits(id);
                assertEquals(0, Ggml.ggml_type_traits.blck_size(traits), "ggml still defines type id " + id);
            }
        }
    }

    /** The rows of our table that are ggml's types (the others, FP8 with block scales, have no id there). */
    static List<GGMLType> ggmlTypes() {
        return Arrays.stream(GGMLType.values()).filter(GGMLType::hasGgufId).toList();
    }

    @Test
    void toFloatDecodesACraftedQ4KBlock() {
        Oracle.library();
        try (var arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(GGMLType.Q4_K.typeSize);
            block.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) 0x3C00);
            block.set(ValueLayout.JAVA_BYTE, 4, (byte) 1);
            block.set(ValueLayout.JAVA_BYTE, 5, (byte) 1);
            for (int i = 16; i < 16 + 128; i++) {
                block.set(ValueLayout.JAVA_BYTE, i, (byte) 0x21);
            }
            MemorySegment out = arena.allocate(256L * Float.BYTES);
            Ggml.toFloat(GGMLType.Q4_K.id, block, out, 256);
            float[] values = out.toArray(ValueLayout.JAVA_FLOAT);
            assertEquals(1f, values[0]);
            assertEquals(2f, values[32]);
            assertEquals(0f, values[64]);
            assertEquals(0f, values[255]);
        }
    }
}
