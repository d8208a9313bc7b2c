package glmj.llamacpp;

import glmj.kernel.CMath;
import glmj.kernel.Exponentials;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link Exponentials} and {@link CMath#expf} give what ggml's CPU variant on this machine computes, bit for bit: its
 * SwiGLU op (ggml_v_silu over whole vectors, whose AVX-512 and AVX2 forms round differently) and its sigmoid op (the C
 * library's expf), on arguments of ordinary size and on the large ones whose exponentials leave the float exponent's
 * range.
 */
class ExponentialsMatchGgmlTest {
    /** A multiple of every vector width, so ggml takes no scalar tail. */
    private static final int COUNT = 1 << 16;

    @BeforeAll
    static void initialize() {
        Oracle.library();
        GgmlCpu.ggml_cpu_init();
        System.out.println("ggml CPU kernels from " + GgmlCpu.variant().getFileName());
    }

    @Test
    void siluAndExpfAreGgmls() {
        SplittableRandom random = new SplittableRandom(11);
        float[] x = new float[COUNT], up = new float[COUNT];
        for (int i = 0; i < COUNT; i++) {
            // most like activations, one in eight anywhere in [-120, 120], past where e^-x over- or underflows
            x[i] = (float) (i % 8 == 0 ? random.nextDouble(-120, 120) : random.nextGaussian() * 3);
            up[i] = (float) random.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            long tensors = 4 * Ggml.ggml_tensor_overhead() + 4L * COUNT * Float.BYTES + Ggml.ggml_graph_overhead_custom(8, false);
            MemorySegment context = Ggml.ggml_init(Ggml.ggml_init_params.allocate(arena, arena.allocate(tensors + 4096, 64), false));
            try {
                MemorySegment a = input(context, x), b = input(context, up);
                MemorySegment swiglu = Ggml.ggml_swiglu_split(context, a, b);
                MemorySegment sigmoid = Ggml.ggml_sigmoid(context, a);
                MemorySegment graph = Ggml.ggml_new_graph_custom(context, 8, false);
                Ggml.ggml_build_forward_expand(graph, swiglu);
                Ggml.ggml_build_forward_expand(graph, sigmoid);
                MemorySegment plan = GgmlCpu.ggml_graph_plan(arena, graph, 1, MemorySegment.NULL);
                GgmlCpu.ggml_cplan.work_data(plan, arena.allocate(Math.max(1, GgmlCpu.ggml_cplan.work_size(plan)), 64));
                assertEquals(0, GgmlCpu.ggml_graph_compute(graph, plan), "ggml_graph_compute status");
                float[] ggmlSwiglu = output(swiglu), ggmlSigmoid = output(sigmoid);
                for (int i = 0; i < COUNT; i++) {
                    float ours = Exponentials.silu(x[i]) * up[i];
                    if (Float.floatToIntBits(ours) != Float.floatToIntBits(ggmlSwiglu[i])) {
                        fail("swiglu(" + x[i] + ", " + up[i] + "): ours " + ours + ", ggml " + ggmlSwiglu[i]);
                    }
                    float sigmoidOfX = 1.0f / (1.0f + CMath.expf(-x[i]));
                    if (Float.floatToIntBits(sigmoidOfX) != Float.floatToIntBits(ggmlSigmoid[i])) {
                        fail("sigmoid(" + x[i] + "): ours " + sigmoidOfX + ", ggml " + ggmlSigmoid[i]);
                    }
                }
            } finally {
                Ggml.ggml_free(context);
            }
        }
    }

    /** A 1-row f32 tensor of the context holding {@code values}. */
    private static MemorySegment input(MemorySegment context, float[] values) {
        MemorySegment tensor = Ggml.ggml_new_tensor_2d(context, 0, values.length, 1);
        MemorySegment.copy(values, 0, data(tensor), JAVA_FLOAT, 0, values.length);
        return tensor;
    }

    private static float[] output(MemorySegment tensor) {
        return data(tensor).toArray(JAVA_FLOAT);
    }

    private static MemorySegment data(MemorySegment tensor) {
        return Ggml.ggml_tensor.data(tensor).reinterpret((long) COUNT * Float.BYTES);
    }
}
