package glmj.llamacpp;

import glmj.kernel.Kernels;
import glmj.kernel.MatmulStep;
import glmj.kernel.VectorKernels;
import glmj.kernel.Weight;
import glmj.tensor.GGMLType;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.function.IntConsumer;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The ggml kernel backend: matmuls run on ggml's own CPU kernels, the {@code vec_dot} of each weight type from the
 * CPU backend variant ggml picks for this machine (AVX-512 VNNI, AVX2, NEON dot products...), against activations
 * converted by that variant's {@code from_float} to the type's {@code vec_dot_type}, exactly as llama.cpp's CPU backend
 * multiplies. Everything else (attention, the indexer, threading) is glmj's: the other operations and the worker pool
 * are those of a {@link VectorKernels}, as are the matmuls of long prompts, whose decoded panels beat {@code vec_dot}.
 * Weights are read straight from the mapped file; nothing is allocated per call once the native buffers have grown to
 * the largest step. Not thread-safe: one forward pass at a time.
 */
public final class GgmlKernels implements Kernels {
    /** Tokens dotted with each weight row while it is in cache, as in {@link VectorKernels}. */
    private static final int TOKEN_TILE = 8;
    /**
     * Tokens from which a prompt's matmul runs faster in glmj's decoded panels (weights decoded to floats once, then
     * multiplied with every token) than in ggml's {@code vec_dot}, which decodes every block again for each token. On
     * the bench model (Zen 4) panels took 0.6 to 0.8 of vec_dot's time at 64 tokens and twice it at 8.
     */
    private static final int PANEL_TOKENS = 32;

    /**
     * {@code ggml_vec_dot_t} and {@code ggml_from_float_t} with their pointers passed as addresses (an {@code size_t}
     * and a pointer travel alike in every C ABI ggml runs on), so a call builds no segment; critical, as both are
     * short and never call back.
     */
    private static final MethodHandle VEC_DOT = Linker.nativeLinker().downcallHandle(FunctionDescriptor.ofVoid(
            JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT), Linker.Option.critical(false));
    private static final MethodHandle FROM_FLOAT = Linker.nativeLinker().downcallHandle(FunctionDescriptor.ofVoid(
            JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));

    /** One weight type's entry of ggml's CPU type traits. */
    private record TypeKernel(MemorySegment vecDot, MemorySegment fromFloat, GGMLType activationType) {
        static TypeKernel of(GGMLType type) {
            MemorySegment traits = GgmlCpu.ggml_get_type_traits_cpu(type.id);
            MemorySegment vecDot = GgmlCpu.ggml_type_traits_cpu.vec_dot(traits);
            if (vecDot.equals(MemorySegment.NULL)) {
                throw new IllegalArgumentException("ggml has no CPU dot kernel for weights of type " + type.ggmlName);
            }
            int activationType = GgmlCpu.ggml_type_traits_cpu.vec_dot_type(traits);
            MemorySegment fromFloat = GgmlCpu.ggml_type_traits_cpu.from_float(GgmlCpu.ggml_get_type_traits_cpu(activationType));
            return new TypeKernel(vecDot, fromFloat, GGMLType.byId(activationType));
        }
    }

    private final VectorKernels vector;
    private final TypeKernel[] typeKernels = new TypeKernel[GGMLType.values().length];
    private final Buffer staged = new Buffer();
    private final Buffer converted = new Buffer();
    private final Buffer results = new Buffer();
    private final Weight[] single = new Weight[1];
    private final IntConsumer convertRange = this::convertRange;
    private final IntConsumer matmulRange = this::matmulRange;
    private final MatmulStep.Rows dotRows = this::dotRows;

    /** The matmuls in flight, read by every thread of the step. */
    private final MatmulStep step = new MatmulStep();
    private TypeKernel kernel;
    private long convertedRowBytes;
    private int ranges;

    /** A backend on {@code threads} threads, the caller's included; loads llama.cpp's libraries if need be. */
    public GgmlKernels(int threads) {
        LlamaLibrary.load(); // first, so that a missing install is a LlamaLibraryException and not a failed class initialization
        GgmlCpu.ggml_cpu_init();
        this.vector = new VectorKernels(threads);
    }

    @Override
    public void matmul(Weight w, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int batch) {
        single[0] = w;
        matmuls(single, 1, x, xOffset, 0, xStride, out, outOffset, 0, outStride, batch);
    }

    @Override
    public void matmuls(Weight[] weights, int groups, float[] x, int xOffset, int xGroupStride, int xStride,
                        float[] out, int outOffset, int outGroupStride, int outStride, int batch) {
        if (batch >= PANEL_TOKENS && VectorKernels.decodesPanels(weights[0].type(), batch)) {
            vector.matmuls(weights, groups, x, xOffset, xGroupStride, xStride, out, outOffset, outGroupStride, outStride, batch);
            return;
        }
        run(step.set(weights, groups, x, xOffset, xGroupStride, xStride, out, outOffset, outGroupStride, outStride, batch));
    }

    @Override
    public void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                              float[] out, int[] firstOutput) {
        long allTokens = 0;
        for (int g = 0; g < groups; g++) {
            allTokens += tokens[g];
        }
        int meanTokens = (int) (allTokens / groups);
        if (meanTokens >= PANEL_TOKENS && VectorKernels.decodesPanels(weights[0].type(), meanTokens)) {
            vector.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);
            return;
        }
        run(step.setRagged(weights, groups, x, inputs, firstInput, tokens, out, firstOutput));
    }

    /** The {@link #step} just set, whose weights are all like {@code first}, on ggml's kernels. */
    private void run(Weight first) {
        TypeKernel typeKernel = typeKernels[first.type().ordinal()];
        if (typeKernel == null) {
            typeKernel = typeKernels[first.type().ordinal()] = TypeKernel.of(first.type());
        }
        this.kernel = typeKernel;
        int inputs = step.inputs();
        int cols = first.cols();
        this.convertedRowBytes = typeKernel.activationType.byteSize(cols);
        staged.ensure((long) inputs * cols * Float.BYTES);
        converted.ensure(inputs * convertedRowBytes);
        results.ensure(step.productsBefore(step.groups()) * Float.BYTES);

        this.ranges = Math.min(vector.threads(), inputs);
        vector.parallelFor(ranges, convertRange);
        this.ranges = step.ranges(vector.threads());
        vector.parallelFor(ranges, matmulRange);
    }

    /** Input rows {@code [n*range/ranges, n*(range+1)/ranges)}, staged off the heap and converted by ggml. */
    private void convertRange(int range) {
        int cols = step.weight(0).cols();
        int inputs = step.inputs();
        long rowBytes = (long) cols * Float.BYTES;
        for (int i = inputs * range / ranges; i < inputs * (range + 1) / ranges; i++) {
            if (kernel.fromFloat.equals(MemorySegment.NULL)) {
                // f32 activations, as they are
                MemorySegment.copy(step.x(), step.inputOffset(i), converted.segment, ValueLayout.JAVA_FLOAT, i * convertedRowBytes, cols);
            } else {
                MemorySegment.copy(step.x(), step.inputOffset(i), staged.segment, ValueLayout.JAVA_FLOAT, i * rowBytes, cols);
                fromFloat(kernel.fromFloat, staged.address + i * rowBytes, converted.address + i * convertedRowBytes, cols);
            }
        }
    }

    /** One of the step's row ranges. */
    private void matmulRange(int range) {
        step.rangeRows(range, ranges, dotRows);
    }

    /** Rows {@code [from, to)} of group {@code g}, a few tokens at a time, then their results into the step's output. */
    private void dotRows(int range, int g, int from, int to) {
        Weight w = step.weight(g);
        int cols = w.cols();
        int rows = w.rows();
        int batch = step.tokens(g);
        long rowBytes = w.rowBytes();
        long data = w.data().address();
        int activationRow = step.firstInput(g);
        long resultRows = results.address + step.productsBefore(g) * Float.BYTES;
        for (int tile = 0; tile < batch; tile += TOKEN_TILE) {
            int tileEnd = Math.min(batch, tile + TOKEN_TILE);
            for (int r = from; r < to; r++) {
                for (int b = tile; b < tileEnd; b++) {
                    vecDot(kernel.vecDot, cols, resultRows + ((long) b * rows + r) * Float.BYTES, data + r * rowBytes,
                            converted.address + (activationRow + b) * convertedRowBytes);
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(results.segment, ValueLayout.JAVA_FLOAT, resultRows - results.address + ((long) b * rows + from) * Float.BYTES,
                    step.out(), step.outputOffset(g) + b * step.outStride() + from, to - from);
        }
    }

    private static void vecDot(MemorySegment function, int n, long result, long row, long activations) {
        try {
            VEC_DOT.invokeExact(function, n, result, 0L, row, 0L, activations, 0L, 1);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static void fromFloat(MemorySegment function, long from, long to, long count) {
        try {
            FROM_FLOAT.invokeExact(function, from, to, count);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public void row(Weight w, int row, float[] dst, int dstOffset) {
        vector.row(w, row, dst, dstOffset);
    }

    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        return vector.dot(a, aOffset, b, bOffset, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
        vector.axpy(alpha, x, xOffset, y, yOffset, n);
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        vector.parallelFor(count, task);
    }

    @Override
    public void close() {
        vector.close();
        staged.free();
        converted.free();
        results.free();
    }

    /** A native buffer that grows (by doubling) to the largest size asked of it; its old memory is freed. */
    private static final class Buffer {
        private Arena arena;
        MemorySegment segment = MemorySegment.NULL;
        long address;

        void ensure(long bytes) {
            if (segment.byteSize() >= bytes) {
                return;
            }
            long size = Math.max(bytes, 2 * segment.byteSize());
            free();
            arena = Arena.ofShared();
            segment = arena.allocate(size, 64);
            address = segment.address();
        }

        void free() {
            if (arena != null) {
                arena.close();
                arena = null;
                segment = MemorySegment.NULL;
            }
        }
    }
}
