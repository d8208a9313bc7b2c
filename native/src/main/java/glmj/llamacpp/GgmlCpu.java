package glmj.llamacpp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Bindings to what glmj uses of {@code ggml-cpu.h}, in jextract's style, from the CPU backend variant ggml itself
 * would choose on this machine: of the {@code libggml-cpu-*} libraries beside llama.cpp, the one whose
 * {@code ggml_backend_score} is highest (the variants are built for different instruction sets).
 */
public final class GgmlCpu {
    private GgmlCpu() {}

    /** {@code struct ggml_type_traits_cpu}. */
    public static final class ggml_type_traits_cpu {
        private ggml_type_traits_cpu() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                ADDRESS.withName("from_float"),
                ADDRESS.withName("vec_dot"),
                JAVA_INT.withName("vec_dot_type"),
                MemoryLayout.paddingLayout(4),
                JAVA_LONG.withName("nrows"));

        private static long offset(String field) {
            return LAYOUT.byteOffset(groupElement(field));
        }

        public static MemorySegment from_float(MemorySegment traits) {
            return traits.get(ADDRESS, offset("from_float"));
        }

        public static MemorySegment vec_dot(MemorySegment traits) {
            return traits.get(ADDRESS, offset("vec_dot"));
        }

        public static int vec_dot_type(MemorySegment traits) {
            return traits.get(JAVA_INT, offset("vec_dot_type"));
        }
    }

    /** {@code typedef void (*ggml_vec_dot_t)(int n, float * s, size_t bs, const void * x, size_t bx, const void * y, size_t by, int nrc)}. */
    public static final class ggml_vec_dot_t {
        private ggml_vec_dot_t() {}

        public static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT);
        private static final MethodHandle INVOKER = Linker.nativeLinker().downcallHandle(DESC);

        public static void invoke(MemorySegment function, int n, MemorySegment s, long bs, MemorySegment x, long bx, MemorySegment y, long by, int nrc) {
            try {
                INVOKER.invokeExact(function, n, s, bs, x, bx, y, by, nrc);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }

    /** {@code struct ggml_cplan}: how {@code ggml_graph_compute} runs a graph. */
    public static final class ggml_cplan {
        private ggml_cplan() {}

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                JAVA_LONG.withName("work_size"),
                ADDRESS.withName("work_data"),
                JAVA_INT.withName("n_threads"),
                MemoryLayout.paddingLayout(4),
                ADDRESS.withName("threadpool"),
                ADDRESS.withName("abort_callback"),
                ADDRESS.withName("abort_callback_data"),
                JAVA_BOOLEAN.withName("use_ref"),
                MemoryLayout.paddingLayout(7));

        private static final long WORK_SIZE = LAYOUT.byteOffset(groupElement("work_size"));
        private static final long WORK_DATA = LAYOUT.byteOffset(groupElement("work_data"));
        private static final long ABORT_CALLBACK = LAYOUT.byteOffset(groupElement("abort_callback"));

        /** {@code size_t work_size}: the scratch memory the plan's graph needs. */
        public static long work_size(MemorySegment plan) {
            return plan.get(JAVA_LONG, WORK_SIZE);
        }

        /** Sets {@code uint8_t * work_data}, at least {@link #work_size} bytes. */
        public static void work_data(MemorySegment plan, MemorySegment data) {
            plan.set(ADDRESS, WORK_DATA, data);
        }

        /** Sets {@code ggml_abort_callback abort_callback} ({@link Ggml.ggml_abort_callback}), asked after each node. */
        public static void abort_callback(MemorySegment plan, MemorySegment callback) {
            plan.set(ADDRESS, ABORT_CALLBACK, callback);
        }
    }

    private static final class Variant {
        static final Path FILE = chooseVariant(LlamaLibrary.load().directory());
        static final SymbolLookup SYMBOLS = SymbolLookup.libraryLookup(FILE, Arena.global());

        static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
            return Linker.nativeLinker().downcallHandle(SYMBOLS.find(name).orElseThrow(
                    () -> new LlamaLibraryException(FILE + " has no function " + name)), descriptor);
        }
    }

    /** The CPU backend library these bindings call. */
    public static Path variant() {
        return Variant.FILE;
    }

    private static final class ggml_cpu_init {
        static final MethodHandle HANDLE = Variant.downcall("ggml_cpu_init", FunctionDescriptor.ofVoid());
    }

    /** Initializes the CPU backend's tables; needed before its kernels run. */
    public static void ggml_cpu_init() {
        try {
            ggml_cpu_init.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_cpu_has_avx2 {
        static final MethodHandle HANDLE = Variant.downcall("ggml_cpu_has_avx2", FunctionDescriptor.of(JAVA_INT));
    }

    /** {@code int ggml_cpu_has_avx2(void)}: whether this variant was built for AVX2 (and so runs on a CPU with it). */
    public static boolean ggml_cpu_has_avx2() {
        try {
            return (int) ggml_cpu_has_avx2.HANDLE.invokeExact() != 0;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_get_type_traits_cpu {
        static final MethodHandle HANDLE = Variant.downcall("ggml_get_type_traits_cpu", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    public static MemorySegment ggml_get_type_traits_cpu(int type) {
        try {
            return ((MemorySegment) ggml_get_type_traits_cpu.HANDLE.invokeExact(type)).reinterpret(ggml_type_traits_cpu.LAYOUT.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_graph_plan {
        static final MethodHandle HANDLE = Variant.downcall("ggml_graph_plan", FunctionDescriptor.of(ggml_cplan.LAYOUT, ADDRESS, JAVA_INT, ADDRESS));
    }

    /**
     * {@code struct ggml_cplan ggml_graph_plan(const struct ggml_cgraph * cgraph, int n_threads, struct ggml_threadpool * threadpool)},
     * the plan returned in memory from {@code allocator}.
     */
    public static MemorySegment ggml_graph_plan(SegmentAllocator allocator, MemorySegment graph, int threads, MemorySegment threadpool) {
        try {
            return (MemorySegment) ggml_graph_plan.HANDLE.invokeExact(allocator, graph, threads, threadpool);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static final class ggml_graph_compute {
        static final MethodHandle HANDLE = Variant.downcall("ggml_graph_compute", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /**
     * {@code enum ggml_status ggml_graph_compute(struct ggml_cgraph * cgraph, struct ggml_cplan * cplan)}: with no
     * threadpool in the plan, on the calling thread and the plan's {@code n_threads - 1} threads started for it.
     */
    public static int ggml_graph_compute(MemorySegment graph, MemorySegment plan) {
        try {
            return (int) ggml_graph_compute.HANDLE.invokeExact(graph, plan);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static Path chooseVariant(Path directory) {
        List<Path> variants;
        try (Stream<Path> files = Files.list(directory)) {
            variants = files.filter(file -> file.getFileName().toString().startsWith("libggml-cpu")).sorted().toList();
        } catch (IOException e) {
            throw new LlamaLibraryException("cannot list " + directory + ": " + e.getMessage(), e);
        }
        return variants.stream()
                .filter(file -> score(file) > 0)
                .max(Comparator.comparingInt(GgmlCpu::score))
                .orElseThrow(() -> new LlamaLibraryException("no libggml-cpu variant in " + directory + " runs on this CPU"));
    }

    private static int score(Path variant) {
        MemorySegment function = SymbolLookup.libraryLookup(variant, Arena.global()).find("ggml_backend_score").orElse(MemorySegment.NULL);
        if (function.equals(MemorySegment.NULL)) {
            return 0;
        }
        try {
            return (int) Linker.nativeLinker().downcallHandle(function, FunctionDescriptor.of(JAVA_INT)).invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
