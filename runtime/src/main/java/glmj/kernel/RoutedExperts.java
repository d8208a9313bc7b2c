package glmj.kernel;

import glmj.gguf.PageAdvice;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * A mixture of experts' routed part, as ggml's {@code mul_mat_id} schedules it: the tokens' routes sorted by expert,
 * so every expert's weights are read once per batch on the tokens routed to it; the experts together in ragged steps of
 * up to a batch of routes, one for their gate and up projections (fused where alike) and one for their down
 * projections. Each token's results are then added up as llama.cpp's graph adds them: each expert's output times its
 * weight, the products summed in the router's rank order, then added to what the token's row held (the shared
 * expert); so a decode step is llama.cpp's bit for bit, and a token's result does not depend on how its batch was split
 * into steps. Holds its buffers; one call at a time.
 */
public final class RoutedExperts {
    private final Kernels kernels;
    private final int embedding;
    /** Where each expert's routes begin (sorted by expert), and their tokens; the route of each token's i-th ranked expert. */
    private final int[] expertStart, routeToken, choiceRoute;
    /** Most routes one step takes: the batch, or a decode step's experts. */
    private final int routedRows;
    /** A step's input rows, a row per route; the batch's results, a row per route; a step's gate then up projections. */
    private final float[] routedIn, routedOut, gateUp;
    /** A step's experts: each one's first route and routes; where its gate and up projections read and write. */
    private final int[] routedFirst, routedTokens, routedInput, routedOutput;
    private final Weight[] gates, ups, downs, gatesAndUps;
    /** The call in flight, read by {@link #addRouted}'s tasks. */
    private final IntConsumer addRouted = this::addRouted;
    private float[][] weights;
    private float[] out;
    private int used;

    /**
     * Experts of up to {@code experts} per layer, {@code maxUsed} per token, rows of {@code embedding} and hidden
     * size of at most {@code maxFeedForward}, for batches of up to {@code maxTokens} tokens.
     */
    public RoutedExperts(int experts, int maxUsed, int embedding, int maxFeedForward, int maxTokens, Kernels kernels) {
        this.kernels = kernels;
        this.embedding = embedding;
        expertStart = new int[experts + 2];
        routeToken = new int[maxTokens * maxUsed];
        choiceRoute = new int[maxTokens * maxUsed];
        routedRows = Math.max(maxTokens, maxUsed);
        routedIn = new float[routedRows * embedding];
        routedOut = new float[maxTokens * maxUsed * embedding];
        gateUp = new float[2 * routedRows * maxFeedForward];
        routedFirst = new int[experts];
        routedTokens = new int[2 * experts];
        routedInput = new int[2 * experts];
        routedOutput = new int[2 * experts];
        gates = new Weight[experts];
        ups = new Weight[experts];
        downs = new Weight[experts];
        gatesAndUps = new Weight[2 * experts];
    }

    /**
     * Tells {@code advice} that the weights of the experts the {@code count} tokens chose ({@code chosen[t][0..used)})
     * will be read: each chosen expert once, in expert order, its gate, up and down projections.
     */
    public void willNeed(Weight[] gate, Weight[] up, Weight[] down, int count, int[][] chosen, int used, PageAdvice advice) {
        routeByExpert(count, used, gate.length, chosen);
        for (int expert = 0; expert < gate.length; expert++) {
            if (expertStart[expert + 1] > expertStart[expert]) {
                advice.willNeed(gate[expert].data());
                advice.willNeed(up[expert].data());
                advice.willNeed(down[expert].data());
            }
        }
    }

    /**
     * Adds to each of the {@code count} tokens' rows of {@code out} its {@code used} chosen experts' SwiGLU FFNs of its
     * row of {@code x}, each times its weight: token t chose experts {@code chosen[t][0..used)} with weights
     * {@code weights[t][0..used)}, best-ranked first; expert x is {@code down[x](silu(gate[x] in) * up[x] in)}.
     */
    public void apply(Weight[] gate, Weight[] up, Weight[] down, float[] x, int count, int[][] chosen, float[][] weights,
                      int used, float[] out) {
        int experts = gate.length;
        routeByExpert(count, used, experts, chosen);
        // the experts together in steps of up to routedRows routes
        int expert = 0;
        while (expert < experts) {
            int first = expertStart[expert], groups = 0;
            for (; expert < experts && expertStart[expert + 1] - first <= routedRows; expert++) {
                int tokens = expertStart[expert + 1] - expertStart[expert];
                if (tokens > 0) {
                    gates[groups] = gate[expert];
                    ups[groups] = up[expert];
                    downs[groups] = down[expert];
                    routedFirst[groups] = expertStart[expert] - first;
                    routedTokens[groups++] = tokens;
                }
            }
            step(groups, first, expertStart[expert], x, count);
        }
        this.weights = weights;
        this.out = out;
        this.used = used;
        kernels.parallelFor(count, addRouted);
    }

    /**
     * The tokens' routes sorted by expert, then token: route r of expert x, for r in {@code [expertStart[x],
     * expertStart[x + 1])}, takes token {@code routeToken[r]}; token t's i-th ranked expert is route
     * {@code choiceRoute[t * used + i]}.
     */
    private void routeByExpert(int count, int used, int experts, int[][] chosen) {
        Arrays.fill(expertStart, 0, experts + 2, 0);
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < used; i++) {
                expertStart[chosen[t][i] + 2]++;
            }
        }
        for (int e = 2; e <= experts + 1; e++) {
            expertStart[e] += expertStart[e - 1];
        }
        // expertStart[e + 1] now counts the routes before expert e: it moves on past each one placed
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < used; i++) {
                int r = expertStart[chosen[t][i] + 1]++;
                routeToken[r] = t;
                choiceRoute[t * used + i] = r;
            }
        }
    }

    /** The {@code groups} experts set up by {@link #apply} on routes {@code [from, to)}, into those routes' rows of {@code routedOut}. */
    private void step(int groups, int from, int to, float[] x, int count) {
        int e = embedding, ff = gates[0].rows(), routes = to - from;
        float[] in;
        int inputs;
        if (count == 1) {
            // decode: every expert reads the one token as it is
            in = x;
            inputs = 1;
            Arrays.fill(routedInput, 0, groups, 0);
        } else {
            in = routedIn;
            inputs = routes;
            for (int r = from; r < to; r++) {
                System.arraycopy(x, routeToken[r] * e, in, (r - from) * e, e);
            }
            System.arraycopy(routedFirst, 0, routedInput, 0, groups);
        }
        if (gates[0].type() == ups[0].type() && ups[0].rows() == ff) {
            System.arraycopy(gates, 0, gatesAndUps, 0, groups);
            System.arraycopy(ups, 0, gatesAndUps, groups, groups);
            System.arraycopy(routedInput, 0, routedInput, groups, groups);
            System.arraycopy(routedTokens, 0, routedTokens, groups, groups);
            for (int g = 0; g < groups; g++) {
                routedOutput[g] = routedFirst[g];
                routedOutput[groups + g] = routes + routedFirst[g];
            }
            kernels.raggedMatmuls(gatesAndUps, 2 * groups, in, inputs, routedInput, routedTokens, gateUp, routedOutput);
        } else {
            System.arraycopy(routedFirst, 0, routedOutput, 0, groups);
            kernels.raggedMatmuls(gates, groups, in, inputs, routedInput, routedTokens, gateUp, routedOutput);
            for (int g = 0; g < groups; g++) {
                routedOutput[g] = routes + routedFirst[g];
            }
            kernels.raggedMatmuls(ups, groups, in, inputs, routedInput, routedTokens, gateUp, routedOutput);
        }
        kernels.swiGlu(gateUp, routes * ff, routes * ff);
        for (int g = 0; g < groups; g++) {
            routedOutput[g] = from + routedFirst[g];
        }
        kernels.raggedMatmuls(downs, groups, gateUp, routes, routedFirst, routedTokens, routedOut, routedOutput);
    }

    /** Token t's routed experts, each times its weight, summed in rank order, then added to its row of {@code out}. */
    private void addRouted(int t) {
        int e = embedding;
        float[] w = weights[t], results = routedOut;
        // the sum builds up in the best-ranked expert's row
        int sum = choiceRoute[t * used] * e;
        for (int d = 0; d < e; d++) {
            results[sum + d] *= w[0];
        }
        for (int i = 1; i < used; i++) {
            int row = choiceRoute[t * used + i] * e;
            for (int d = 0; d < e; d++) {
                results[sum + d] += results[row + d] * w[i];
            }
        }
        for (int d = 0; d < e; d++) {
            out[t * e + d] = results[sum + d] + out[t * e + d];
        }
    }
}
