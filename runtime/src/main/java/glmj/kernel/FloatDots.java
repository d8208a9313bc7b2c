package glmj.kernel;

import glmj.tensor.blocks.LittleEndian;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.Lanes.F;
import static glmj.kernel.Lanes.HALF;
import static glmj.kernel.Lanes.I;
import static glmj.kernel.Lanes.LE;
import static jdk.incubator.vector.VectorOperators.FMA;

/** Dot kernels for float weights (f32, f16, bf16) with activations rounded to the same format. */
public final class FloatDots {
    private static final int N = F.length();

    private FloatDots() {
    }

    /**
     * ggml_vec_dot_f32's order, which llama.cpp's single-token matmuls with f32 weights take: four vectors of
     * partial sums over consecutive runs of lanes, added (0 + 2) + (1 + 3), then across lanes ({@link Lanes#vecReduce});
     * the tail past the last four vectors one product at a time (none for glm-dsa, whose rows are multiples of 64).
     * With f16 roundings downstream (KV cache, small-batch attention) a last-bit difference here grows to ~1e-4 of a
     * layer's output and can decide near-tied greedy tokens. (Batches of 2 or more take llamafile's tinyBLAS in
     * llama.cpp, one vector of partial sums per output: not reproduced.)
     */
    public static float f32(MemorySegment w, long offset, Activations a, int row) {
        int cols = a.cols;
        float[] x = a.values;
        int base = row * cols;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (; i + 4 * N <= cols; i += 4 * N) {
            acc0 = FloatVector.fromMemorySegment(F, w, offset + 4L * i, LE)
                    .lanewise(FMA, FloatVector.fromArray(F, x, base + i), acc0);
            acc1 = FloatVector.fromMemorySegment(F, w, offset + 4L * (i + N), LE)
                    .lanewise(FMA, FloatVector.fromArray(F, x, base + i + N), acc1);
            acc2 = FloatVector.fromMemorySegment(F, w, offset + 4L * (i + 2 * N), LE)
                    .lanewise(FMA, FloatVector.fromArray(F, x, base + i + 2 * N), acc2);
            acc3 = FloatVector.fromMemorySegment(F, w, offset + 4L * (i + 3 * N), LE)
                    .lanewise(FMA, FloatVector.fromArray(F, x, base + i + 3 * N), acc3);
        }
        FloatVector pairs = acc0.lanewise(VectorOperators.ADD, acc2);
        float sum = Lanes.vecReduce(pairs.lanewise(VectorOperators.ADD, acc1.lanewise(VectorOperators.ADD, acc3)));
        for (; i < cols; i++) {
            sum += w.get(LittleEndian.FLOAT, offset + 4L * i) * x[base + i];
        }
        return sum;
    }

    /** {@link #f32(MemorySegment, long, Activations, int)}'s order for two float arrays: the indexer's query and key. */
    public static float f32(float[] a, int aOffset, float[] b, int bOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (; i + 4 * N <= n; i += 4 * N) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).lanewise(FMA, FloatVector.fromArray(F, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOffset + i + N).lanewise(FMA, FloatVector.fromArray(F, b, bOffset + i + N), acc1);
            acc2 = FloatVector.fromArray(F, a, aOffset + i + 2 * N)
                    .lanewise(FMA, FloatVector.fromArray(F, b, bOffset + i + 2 * N), acc2);
            acc3 = FloatVector.fromArray(F, a, aOffset + i + 3 * N)
                    .lanewise(FMA, FloatVector.fromArray(F, b, bOffset + i + 3 * N), acc3);
        }
        FloatVector pairs = acc0.lanewise(VectorOperators.ADD, acc2);
        float sum = Lanes.vecReduce(pairs.lanewise(VectorOperators.ADD, acc1.lanewise(VectorOperators.ADD, acc3)));
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    public static float f16(MemorySegment w, long offset, Activations a, int row) {
        return halves(w, offset, a, row, false);
    }

    public static float bf16(MemorySegment w, long offset, Activations a, int row) {
        return halves(w, offset, a, row, true);
    }

    private static float halves(MemorySegment w, long offset, Activations a, int row, boolean brain) {
        int cols = a.cols;
        float[] x = a.values;
        int base = row * cols;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + N <= cols; i += N) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(HALF, w, offset + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector weights = brain ? bf16ToFloat(bits) : Lanes.f16ToFloat(bits);
            acc = weights.lanewise(FMA, FloatVector.fromArray(F, x, base + i), acc);
        }
        float sum = Lanes.sum(acc);
        for (; i < cols; i++) {
            int bits = w.get(LittleEndian.SHORT, offset + 2L * i) & 0xFFFF;
            sum += (brain ? Float.intBitsToFloat(bits << 16) : Float.float16ToFloat((short) bits)) * x[base + i];
        }
        return sum;
    }

    private static FloatVector bf16ToFloat(IntVector bits) {
        return (FloatVector) bits.lanewise(VectorOperators.LSHL, Lanes.SIXTEENS).reinterpretShape(F, 0);
    }
}
