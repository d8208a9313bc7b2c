package glmj.model;

/**
 * Sees, and may replace, the residual stream between the layers of a {@link GlmDsa#forward} call: the hidden state
 * that enters each layer and the one that leaves the last, before the output norm. These are the tensors llama.cpp's
 * glm-dsa graph calls {@code l_out-<il>} (what leaves layer il) and shows through its eval callback; the stream
 * entering layer 0 is the token embedding ({@code embd}). For tests that compare a layer at a time (teacher forcing),
 * and for a session's progress within a batch.
 */
@FunctionalInterface
public interface LayerProbe {
    /**
     * Called before layer {@code layer} runs, and once more with {@code layer} equal to the layer count after the last
     * layer. {@code x} holds the batch's {@code count} rows of embedding-length floats one after another (the array
     * may be longer); the probe may overwrite them in place, and the forward pass then continues from what it wrote.
     */
    void residual(int layer, float[] x, int count);
}
