package glmj.llamacpp;

import glmj.kernel.GgmlPrompt;
import glmj.kernel.Kernels;
import glmj.kernel.MatmulStep;
import glmj.kernel.Rows;
import glmj.kernel.VectorKernels;
import glmj.kernel.Weight;
import glmj.tensor.GGMLType;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The ggml kernel backend: matmuls run on llama.cpp's CPU kernels, from the CPU backend variant ggml picks for this
 * machine (AVX-512 VNNI, AVX2, NEON dot products...), exactly as llama.cpp's CPU backend multiplies. A single token's
 * matmul (a decode step) calls the weight type's {@code vec_dot} for every row, against the token converted by
 * {@code from_float} to the type's {@code vec_dot_type}. A batch's is ggml's {@code mul_mat} operation itself, one
 * small graph per row range computed on the thread that runs the range: it takes the same kernels as llama.cpp's
 * prompts (tinyBLAS for Q8_0 and float weights, the IQ panels of {@code iqp.cpp}, {@code vec_dot} loops for the
 * K-quants), with no downcall per row and token; which one each type gets is its {@link GgmlPrompt} column in
 * {@link GGMLType}. With vectors of 256 bits or more the K-quants' batches from {@link GgmlPrompt#VEC_DOT}'s tokens on
 * take glmj's decoded panels instead, which beat ggml's loops there ({@link VectorKernels#PANELS_BEAT_GGML_LOOPS}),
 * unless the backend is made without panels (then every matmul rounds as llama.cpp's plain CPU kernels do); a type
 * ggml has no kernel for (FP8 with block scales) runs on the vector kernels. Everything else (attention, the indexer,
 * the worker pool and how rows are split among its threads) is glmj's, that of a {@link VectorKernels}. Weights are
 * read straight from the mapped file; a decode step allocates nothing once the native buffers have grown to the largest
 * step. Not thread-safe: one forward pass at a time.
 */
public final class GgmlKernels implements Kernels {
    /** Tokens dotted with each weight row while it is in cache, as in {@link VectorKernels}. */
    private static final int TOKEN_TILE = 8;
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
    /** Whether the K-quants' prompts take glmj's decoded panels rather than ggml's {@code vec_dot} loops. */
    private final boolean promptPanels;
    private final TypeKernel[] typeKernels = new TypeKernel[GGMLType.values().length];
    private final Buffer staged = new Buffer();
    private final Buffer converted = new Buffer();
    private final Buffer results = new Buffer();
    private final Weight[] single = new Weight[1];
    private final IntConsumer convertRange = this::convertRange;
    private final IntConsumer matmulRange = this::matmulRange;
    private final IntConsumer graphRange = this::graphRange;
    private final MatmulStep.Rows dotRows = this::dotRows;
    private final MatmulStep.Rows addMulMat = this::addMulMat;
    private final MatmulStep.Rows copyResults = (range, g, from, to) -> copyResults(g, from, to);
    /** Each range's graph: a range runs on one thread. */
    private final Graph[] graphs;
    /** Where the graphs' abort callback lives. */
    private final Arena arena = Arena.ofShared();
    private volatile BooleanSupplier cancelled = () -> false;
    /** Asked by ggml after each operation of a graph: a range's graph holds one per group it covers. */
    private final MemorySegment abortGraph = Ggml.ggml_abort_callback.allocate(data -> cancelled.getAsBoolean(), arena);

    /** The matmuls in flight, read by every thread of the step. */
    private final MatmulStep step = new MatmulStep();
    private TypeKernel kernel;
    private long convertedRowBytes;
    /** Whether the step's graphs read the staged f32 activations rather than the converted ones. */
    private boolean floatActivations;
    private int ranges;

    /** A backend on {@code threads} threads, the caller's included; loads llama.cpp's libraries if need be. */
    public GgmlKernels(int threads) {
        this(threads, true);
    }

    /**
     * A backend on {@code threads} threads; without {@code promptPanels} every matmul of a type ggml multiplies is
     * ggml's own, so prompts of K-quant weights round exactly as llama.cpp's plain CPU kernels do (and run slower).
     */
    public GgmlKernels(int threads, boolean promptPanels) {
        LlamaLibrary.load(); // first, so that a missing install is a LlamaLibraryException and not a failed class initialization
        GgmlCpu.ggml_cpu_init();
        this.promptPanels = promptPanels;
        this.vector = new VectorKernels(threads, promptPanels);
        this.graphs = new Graph[MatmulStep.mostRanges(threads)];
        for (int i = 0; i < graphs.length; i++) {
            graphs[i] = new Graph();
        }
    }

    @Override
    public boolean multiplies(GGMLType type) {
        return type.ggmlPrompt() != GgmlPrompt.NONE || type.isVectorMultiplied();
    }

    @Override
    public void matmul(Weight w, float[] x, float[] out, int batch) {
        if (runsOnVectorKernels(w.type(), batch)) {
            vector.matmul(w, x, out, batch);
            return;
        }
        single[0] = w;
        run(step.set(single, 1, x, 0, 0, w.cols(), out, 0, 0, w.rows(), batch));
    }

    @Override
    public void matmuls(Weight[] weights, Rows x, Rows out, int batch) {
        if (runsOnVectorKernels(weights[0].type(), batch)) {
            vector.matmuls(weights, x, out, batch);
            return;
        }
        run(step.set(weights, weights.length, x.data(), x.offset(), x.groupStride(), x.stride(), out.data(), out.offset(),
                out.groupStride(), out.stride(), batch));
    }

    @Override
    public void raggedMatmuls(Weight[] weights, int groups, float[] x, int inputs, int[] firstInput, int[] tokens,
                              float[] out, int[] firstOutput) {
        long allTokens = 0;
        for (int g = 0; g < groups; g++) {
            allTokens += tokens[g];
        }
        if (runsOnVectorKernels(weights[0].type(), (int) (allTokens / groups))) {
            vector.raggedMatmuls(weights, groups, x, inputs, firstInput, tokens, out, firstOutput);
            return;
        }
        run(step.setRagged(weights, groups, x, inputs, firstInput, tokens, out, firstOutput));
    }

    /**
     * Whether a step of {@code tokens} tokens (per group) runs on the vector kernels: the K-quants' batches where glmj's
     * decoded panels multiply them faster than ggml's loops, and the types ggml has no kernel for but the vector kernels do.
     */
    private boolean runsOnVectorKernels(GGMLType type, int tokens) {
        GgmlPrompt prompt = type.ggmlPrompt();
        return prompt == GgmlPrompt.VEC_DOT ? promptPanels && VectorKernels.PANELS_BEAT_GGML_LOOPS && tokens >= prompt.tokens
                && VectorKernels.decodesPanels(type, tokens)
                : prompt == GgmlPrompt.NONE && type.isVectorMultiplied();
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
        // ggml picks a matmul's kernel by its rows too: a range's rows (ROW_ALIGNMENT times some, save a weight's
        // last range) must lead it to the kernel llama.cpp's whole weight gets, so no row depends on the split
        int rows = first.rows();
        GgmlPrompt prompt = first.type().ggmlPrompt();
        boolean onGraphs = step.batch() > 1 && !(prompt == GgmlPrompt.FLOAT_TILES && rows % prompt.rows != 0);
        this.floatActivations = onGraphs && prompt == GgmlPrompt.IQ_PANELS && step.batch() >= prompt.tokens
                && rows % prompt.rows == 0;
        this.convertedRowBytes = typeKernel.activationType.byteSize(cols);
        staged.ensure((long) inputs * cols * Float.BYTES);
        converted.ensure(inputs * convertedRowBytes);
        results.ensure(step.productsBefore(step.groups()) * Float.BYTES);

        this.ranges = Math.min(vector.threads(), inputs);
        vector.parallelFor(ranges, convertRange);
        if (onGraphs) {
            // a graph that converts its own activations converts all of them: one range per thread
            this.ranges = floatActivations ? Math.min(vector.threads(), step.ranges(vector.threads())) : step.ranges(vector.threads());
            vector.parallelFor(ranges, graphRange);
        } else {
            this.ranges = step.ranges(vector.threads());
            vector.parallelFor(ranges, matmulRange);
        }
    }

    /**
     * Input rows {@code [n*range/ranges, n*(range+1)/ranges)}, staged off the heap and, unless the step's graphs
     * convert them themselves, converted by ggml.
     */
    private void convertRange(int range) {
        int cols = step.weight(0).cols();
        int inputs = step.inputs();
        long rowBytes = (long) cols * Float.BYTES;
        for (int i = inputs * range / ranges; i < inputs * (range + 1) / ranges; i++) {
            if (floatActivations) {
                MemorySegment.copy(step.x(), step.inputOffset(i), staged.segment, ValueLayout.JAVA_FLOAT, i * rowBytes, cols);
            } else if (kernel.fromFloat.equals(MemorySegment.NULL)) {
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

    /**
     * One of a batched step's row ranges as a graph of ggml {@code mul_mat} operations, one per group it covers,
     * computed on this thread; then their results into the step's output, walking the range's rows again.
     */
    private void graphRange(int range) {
        Graph graph = graphs[range];
        graph.begin(step.groups());
        step.rangeRows(range, ranges, addMulMat);
        graph.compute(abortGraph);
        step.rangeRows(range, ranges, copyResults);
    }

    /** Adds rows {@code [from, to)} of group {@code g} to range {@code range}'s graph. */
    private void addMulMat(int range, int g, int from, int to) {
        Graph graph = graphs[range];
        Weight w = step.weight(g);
        int tokens = step.tokens(g);
        MemorySegment context = graph.context;
        MemorySegment weights = Ggml.ggml_new_tensor_2d(context, w.type().id, w.cols(), to - from);
        Ggml.ggml_tensor.data(weights, w.data().address() + from * w.rowBytes());
        MemorySegment activations;
        if (floatActivations) {
            activations = Ggml.ggml_new_tensor_2d(context, GGMLType.F32.id, w.cols(), tokens);
            Ggml.ggml_tensor.data(activations, staged.address + (long) step.firstInput(g) * w.cols() * Float.BYTES);
        } else {
            activations = Ggml.ggml_new_tensor_2d(context, kernel.activationType.id, w.cols(), tokens);
            Ggml.ggml_tensor.data(activations, converted.address + step.firstInput(g) * convertedRowBytes);
        }
        MemorySegment products = Ggml.ggml_mul_mat(context, weights, activations);
        // token b's results at row b of the group's results, rows() long: the rows before `from` are other ranges'
        long tokenStride = (long) w.rows() * Float.BYTES;
        Ggml.ggml_tensor.data(products, results.address + (step.productsBefore(g) + from) * Float.BYTES);
        Ggml.ggml_tensor.nb(products, 1, tokenStride);
        Ggml.ggml_tensor.nb(products, 2, tokenStride * tokens);
        Ggml.ggml_tensor.nb(products, 3, tokenStride * tokens);
        graph.add(products);
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
        copyResults(g, from, to);
    }

    /** The results of rows {@code [from, to)} of group {@code g}, for each of its tokens, into the step's output. */
    private void copyResults(int g, int from, int to) {
        int rows = step.weight(g).rows();
        long resultRows = step.productsBefore(g) * Float.BYTES;
        for (int b = 0; b < step.tokens(g); b++) {
            MemorySegment.copy(results.segment, ValueLayout.JAVA_FLOAT, resultRows + ((long) b * rows + from) * Float.BYTES,
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
    public void swiGlu(float[] a, int n, int upOffset) {
        vector.swiGlu(a, n, upOffset);
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        vector.parallelFor(count, task);
    }

    @Override
    public void cancelWhen(BooleanSupplier condition) {
        cancelled = condition;
        vector.cancelWhen(condition);
        step.cancelWhen(condition);
    }

    @Override
    public void close() {
        vector.close();
        for (Graph graph : graphs) {
            graph.free();
        }
        staged.free();
        converted.free();
        results.free();
        arena.close();
    }

    /**
     * A graph of {@code mul_mat} operations on tensors that point into the weights, the activations and the results,
     * built anew for each step in a context of its own, and its compute plan and scratch memory.
     */
    private static final class Graph {
        /** ggml_graph_compute's status when its abort callback stopped it (ggml.h). */
        private static final int GGML_STATUS_ABORTED = 1;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment plan = arena.allocate(GgmlCpu.ggml_cplan.LAYOUT);
        private final SegmentAllocator planMemory = (size, alignment) -> plan;
        private final Buffer contextMemory = new Buffer();
        private final Buffer work = new Buffer();
        private MemorySegment context = MemorySegment.NULL;
        private MemorySegment graph;
        private int capacity;

        /** Starts an empty graph of up to {@code most} operations. */
        void begin(int most) {
            if (most > capacity) {
                freeContext();
                capacity = Math.max(most, 2 * capacity);
                // per operation its weights, activations and products; a graph holds the products as nodes, the others as leaves
                contextMemory.ensure(3 * capacity * Ggml.ggml_tensor_overhead() + Ggml.ggml_graph_overhead_custom(graphSize(), false));
                context = Ggml.ggml_init(Ggml.ggml_init_params.allocate(arena, contextMemory.segment, true));
            }
            Ggml.ggml_reset(context);
            graph = Ggml.ggml_new_graph_custom(context, graphSize(), false);
        }

        private long graphSize() {
            return 2L * capacity;
        }

        void add(MemorySegment products) {
            Ggml.ggml_build_forward_expand(graph, products);
        }

        /** Runs the graph on the calling thread, asking {@code abort} ({@link Ggml.ggml_abort_callback}) after each operation. */
        void compute(MemorySegment abort) {
            GgmlCpu.ggml_graph_plan(planMemory, graph, 1, MemorySegment.NULL);
            work.ensure(GgmlCpu.ggml_cplan.work_size(plan));
            GgmlCpu.ggml_cplan.work_data(plan, work.segment);
            GgmlCpu.ggml_cplan.abort_callback(plan, abort);
            int status = GgmlCpu.ggml_graph_compute(graph, plan);
            if (status == GGML_STATUS_ABORTED) {
                throw new CancellationException("cancelled within a graph");
            }
            if (status != 0) {
                throw new IllegalStateException("ggml_graph_compute failed with status " + status);
            }
        }

        private void freeContext() {
            if (!context.equals(MemorySegment.NULL)) {
                Ggml.ggml_free(context);
                context = MemorySegment.NULL;
            }
        }

        void free() {
            freeContext();
            contextMemory.free();
            work.free();
            arena.close();
        }
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
