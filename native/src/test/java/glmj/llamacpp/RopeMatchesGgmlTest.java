package glmj.llamacpp;

import glmj.model.Rope;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link Rope} rotates as ggml's CPU rope op does on this machine, bit for bit: its angles from the C library's powf,
 * cosf and sinf, its rotation as GCC compiles it (fused multiply-adds). A last-bit difference there flips now and then
 * the f16 rounding of a cached key or of the flash attention's query, and llama.cpp's logits are then no longer ours bit
 * for bit (the tiny F32 model's greedy continuation parted so at its 9th step on an AVX-512 host, while glmj took Java's
 * cos and sin and rounded both products). Rows as glm-dsa ropes them, in NORM mode without YaRN: the attention's rope
 * part (the whole row rotated) and the indexer's heads (the rope's dimensions of a longer row), at the tiny model's
 * base and GLM-5's, at the first positions of a context and far into a long one.
 */
class RopeMatchesGgmlTest {
    private static final int GGML_TYPE_F32 = 0;
    private static final int GGML_TYPE_I32 = 26;
    private static final int GGML_ROPE_TYPE_NORMAL = 0;
    private static final int HEADS = 4;
    private static final int[] POSITIONS = {0, 1, 2, 3, 7, 20, 63, 100, 127, 1000, 4097, 65_000, 131_071, 202_751};

    @BeforeAll
    static void initialize() {
        Oracle.library();
        GgmlCpu.ggml_cpu_init();
        System.out.println("ggml CPU kernels from " + GgmlCpu.variant().getFileName());
    }

    @Test
    void tinyModelsRopeIsGgmls() {
        assertRopeIsGgmls(TinyGlmDsa.QK_ROPE_HEAD_DIM, TinyGlmDsa.QK_ROPE_HEAD_DIM, TinyGlmDsa.ROPE_FREQ_BASE);
        assertRopeIsGgmls(2 * TinyGlmDsa.QK_ROPE_HEAD_DIM, TinyGlmDsa.QK_ROPE_HEAD_DIM, TinyGlmDsa.ROPE_FREQ_BASE);
    }

    @Test
    void glm5sRopeIsGgmls() {
        assertRopeIsGgmls(64, 64, 1_000_000f);
        assertRopeIsGgmls(128, 64, 1_000_000f);
        assertRopeIsGgmls(64, 64, 10_000f);
    }

    /** Rows of {@code row} elements whose first {@code dims} ggml rotates, {@link #HEADS} per position. */
    private static void assertRopeIsGgmls(int row, int dims, float freqBase) {
        int origContext = 4096;
        Rope rope = new Rope(new Rope.Settings(dims, freqBase, 1f, 0f, 1f, origContext, 32f, 1f));
        int tokens = POSITIONS.length, count = tokens * HEADS * row;
        SplittableRandom random = new SplittableRandom(dims * 31L + row);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (random.nextGaussian() * 2);
        }
        float[] expected;
        try (Arena arena = Arena.ofConfined()) {
            long memory = 4 * Ggml.ggml_tensor_overhead() + 2L * count * Float.BYTES + 4L * tokens
                    + Ggml.ggml_graph_overhead_custom(8, false);
            MemorySegment context = Ggml.ggml_init(Ggml.ggml_init_params.allocate(arena, arena.allocate(memory + 4096, 64), false));
            try {
                MemorySegment a = Ggml.ggml_new_tensor_3d(context, GGML_TYPE_F32, row, HEADS, tokens);
                MemorySegment.copy(x, 0, Ggml.ggml_tensor.data(a).reinterpret(4L * count), JAVA_FLOAT, 0, count);
                MemorySegment positions = Ggml.ggml_new_tensor_2d(context, GGML_TYPE_I32, tokens, 1);
                MemorySegment.copy(POSITIONS, 0, Ggml.ggml_tensor.data(positions).reinterpret(4L * tokens), JAVA_INT, 0, tokens);
                MemorySegment rotated = Ggml.ggml_rope_ext(context, a, positions, MemorySegment.NULL, dims, GGML_ROPE_TYPE_NORMAL,
                        origContext, freqBase, 1f, 0f, 1f, 32f, 1f);
                MemorySegment graph = Ggml.ggml_new_graph_custom(context, 8, false);
                Ggml.ggml_build_forward_expand(graph, rotated);
                MemorySegment plan = GgmlCpu.ggml_graph_plan(arena, graph, 1, MemorySegment.NULL);
                GgmlCpu.ggml_cplan.work_data(plan, arena.allocate(Math.max(1, GgmlCpu.ggml_cplan.work_size(plan)), 64));
                assertEquals(0, GgmlCpu.ggml_graph_compute(graph, plan), "ggml_graph_compute status");
                expected = Ggml.ggml_tensor.data(rotated).reinterpret(4L * count).toArray(JAVA_FLOAT);
            } finally {
                Ggml.ggml_free(context);
            }
        }
        float[] angles = new float[dims], ours = x.clone();
        for (int t = 0; t < tokens; t++) {
            rope.angles(POSITIONS[t], angles);
            for (int h = 0; h < HEADS; h++) {
                rope.rotate(angles, ours, (t * HEADS + h) * row);
            }
        }
        for (int i = 0; i < count; i++) {
            if (Float.floatToRawIntBits(ours[i]) != Float.floatToRawIntBits(expected[i])) {
                fail("rope of dims " + dims + ", base " + freqBase + ", position " + POSITIONS[i / (HEADS * row)] + ", element "
                        + i % row + " of a row of " + row + ": ggml " + expected[i] + ", ours " + ours[i]);
            }
        }
    }
}
