package glmj.kernel;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the routed experts ask to be read ahead: exactly the chosen experts' gate, up and down matrices, each once. */
class RoutedExpertsTest {
    private static final int EXPERTS = 6, EMBEDDING = 8, FEED_FORWARD = 4, USED = 2;

    /** A range of memory as an address and a length. */
    private record Range(long address, long bytes) {
        static Range of(MemorySegment segment) {
            return new Range(segment.address(), segment.byteSize());
        }
    }

    @Test
    void theAdviceIsTheChosenExpertsSlicesOfGateUpAndDownInExpertOrder() {
        try (Arena arena = Arena.ofConfined(); VectorKernels kernels = new VectorKernels(1)) {
            Weight[] gate = stacked("gate", FEED_FORWARD, EMBEDDING, arena);
            Weight[] up = stacked("up", FEED_FORWARD, EMBEDDING, arena);
            Weight[] down = stacked("down", EMBEDDING, FEED_FORWARD, arena);
            RoutedExperts experts = new RoutedExperts(EXPERTS, USED, EMBEDDING, FEED_FORWARD, 3, kernels);
            // three tokens choosing experts 4 and 1, 1 and 3, 4 and 3: experts 1, 3 and 4, each read once
            int[][] chosen = {{4, 1}, {1, 3}, {4, 3}};
            List<Range> advised = new ArrayList<>();
            experts.willNeed(gate, up, down, chosen.length, chosen, USED, data -> advised.add(Range.of(data)));
            List<Range> expected = new ArrayList<>();
            for (int expert : new int[] {1, 3, 4}) {
                expected.add(Range.of(gate[expert].data()));
                expected.add(Range.of(up[expert].data()));
                expected.add(Range.of(down[expert].data()));
            }
            assertEquals(expected, advised);

            // a decode step: one token, its two experts
            advised.clear();
            experts.willNeed(gate, up, down, 1, new int[][] {{5, 0}}, USED, data -> advised.add(Range.of(data)));
            assertEquals(List.of(Range.of(gate[0].data()), Range.of(up[0].data()), Range.of(down[0].data()),
                    Range.of(gate[5].data()), Range.of(up[5].data()), Range.of(down[5].data())), advised);
        }
    }

    /** The experts of one stacked F32 tensor: matrix e is its e-th slice, as a GGUF file's experts are. */
    private static Weight[] stacked(String name, int rows, int cols, Arena arena) {
        long bytes = (long) rows * cols * Float.BYTES;
        MemorySegment tensor = arena.allocate(bytes * EXPERTS, 64);
        Weight[] experts = new Weight[EXPERTS];
        for (int e = 0; e < EXPERTS; e++) {
            experts[e] = new Weight(name + "[" + e + "]", tensor.asSlice(e * bytes, bytes), GGMLType.F32, rows, cols);
        }
        return experts;
    }
}
