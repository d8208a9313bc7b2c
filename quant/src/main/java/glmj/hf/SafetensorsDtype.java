package glmj.hf;

import glmj.tensor.blocks.FloatFormats;
import glmj.tensor.blocks.Fp8E4M3;
import glmj.tensor.blocks.LittleEndian;

import java.lang.foreign.MemorySegment;

/** The safetensors element types glmj reads: a checkpoint's weights and the scales of its FP8 weights. */
public enum SafetensorsDtype {
    F32(4),
    F16(2),
    BF16(2),
    /** OCP FP8 E4M3 ({@code float8_e4m3fn}): block-scaled weights. */
    F8_E4M3(1),
    /** Power-of-two (UE8M0) scales. */
    F8_E8M0(1);

    /** Bytes per element. */
    public final int size;

    SafetensorsDtype(int size) {
        this.size = size;
    }

    /** The type named {@code name} in a safetensors header, or null when glmj does not read it. */
    static SafetensorsDtype of(String name) {
        for (SafetensorsDtype dtype : values()) {
            if (dtype.name().equals(name)) {
                return dtype;
            }
        }
        return null;
    }

    /** The names of every readable type, for messages. */
    static String names() {
        return "F8_E4M3, F8_E8M0, BF16, F16 and F32";
    }

    /** Element {@code index} of {@code data}, widened to float exactly (as PyTorch widens it, NaN payloads kept). */
    public float get(MemorySegment data, long index) {
        return switch (this) {
            case F32 -> LittleEndian.f32(data, index * 4);
            case F16 -> Float.float16ToFloat((short) LittleEndian.u16(data, index * 2));
            case BF16 -> FloatFormats.bf16ToF32(LittleEndian.u16(data, index * 2));
            case F8_E4M3 -> Fp8E4M3.toFloat(LittleEndian.u8(data, index));
            case F8_E8M0 -> FloatFormats.e8m0ToF32(LittleEndian.u8(data, index));
        };
    }
}
