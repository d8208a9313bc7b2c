package glmj.llamacpp;

import glmj.kernel.VectorKernels;
import org.junit.jupiter.api.Test;

import java.io.IOException;

/**
 * A quantized model matches llama.cpp layer by layer ({@link LayerByLayer}) on both kernel backends, within the bound
 * {@link GlmDsaMatchesLlamaTest} derives for quantized models: twice the decorrelated-rounding estimate of a layer's 7
 * 8-bit roundings, which depends on the blocks' sizes, not on the model's widths.
 */
abstract class QuantizedLayerByLayerTests {
    private static final double QUANT_LAYER_BOUND = 0.05;

    /** The model and tokens to compare. */
    abstract LayerByLayer.Run run() throws IOException;

    @Test
    void matchesLayerByLayerOnGgmlKernels() throws IOException {
        LayerByLayer.compare(run(), GgmlKernels::new, QUANT_LAYER_BOUND, QUANT_LAYER_BOUND);
    }

    @Test
    void matchesLayerByLayerOnVectorKernels() throws IOException {
        LayerByLayer.compare(run(), VectorKernels::new, QUANT_LAYER_BOUND, QUANT_LAYER_BOUND);
    }
}
