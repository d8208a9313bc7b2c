package glmj.kernel;

import glmj.tensor.blocks.LittleEndian;

import java.lang.foreign.MemorySegment;

/** f16 values in a cache, read as floats. */
public final class Halves {
    private Halves() {
    }

    /**
     * The {@code n} f16 values at byte {@code offset} of {@code cache} into {@code dst[dstOffset..]}, exactly. Scalar,
     * which C2 compiles to the CPU's f16 conversion: storing a vector converted with the Vector API
     * ({@code Lanes.f16ToFloat}) is a call C2 may leave to the interpreter when type profiles are shared by many
     * shapes, and then every vector is allocated.
     */
    public static void toFloats(MemorySegment cache, long offset, float[] dst, int dstOffset, int n) {
        for (int d = 0; d < n; d++) {
            dst[dstOffset + d] = Float.float16ToFloat(cache.get(LittleEndian.SHORT, offset + 2L * d));
        }
    }
}
