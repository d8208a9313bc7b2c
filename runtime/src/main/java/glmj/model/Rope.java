package glmj.model;

import glmj.gguf.Metadata;
import glmj.kernel.CMath;

/**
 * Rotary position embedding in ggml's NORM mode (adjacent pairs {@code (x[2i], x[2i+1])} rotate together) with
 * optional YaRN, computed as ggml's CPU rope does: angles by repeated multiplication in float, then the C library's
 * cosf and sinf ({@link CMath}), the ratio of the angles by its powf. Without YaRN the rotated values are ggml's bit
 * for bit; a last-bit difference there can flip the f16 rounding of a cached key or of the flash attention's query.
 */
public final class Rope {

    /**
     * The rope settings llama.cpp derives from metadata for a context.
     *
     * @param dims        rotated dimensions
     * @param freqBase    base of the angle frequencies
     * @param freqScale   1/scaling factor (1 without scaling)
     * @param extFactor   YaRN extrapolation mix: 1 for yarn scaling, else 0
     * @param attnFactor  magnitude factor passed to rope (llama.cpp's cparams.yarn_attn_factor)
     * @param origContext the context YaRN's correction dimensions refer to
     */
    public record Settings(int dims, float freqBase, float freqScale, float extFactor, float attnFactor, int origContext,
                           float betaFast, float betaSlow) {

        /** llama.cpp's defaults for yarn_beta_fast and yarn_beta_slow, which glm-dsa does not read from the file. */
        private static final float BETA_FAST = 32.0f;
        private static final float BETA_SLOW = 1.0f;

        static Settings from(Metadata meta, String prefix, int dims, int contextLength) {
            String scalingType = meta.getString(prefix + "rope.scaling.type", "linear");
            float factor = meta.getFloat(prefix + "rope.scaling.factor", meta.getFloat(prefix + "rope.scale_linear", 0f));
            float freqScale = factor == 0f || scalingType.equals("none") ? 1.0f : 1.0f / factor;
            boolean yarn = scalingType.equals("yarn");
            float extFactor = yarn ? 1.0f : 0.0f;
            float attnFactor = 1.0f;
            if (yarn) {
                float f = 1.0f / freqScale;
                float mscale = f <= 1.0f ? 1.0f : 0.1f * (float) Math.log(f) + 1.0f;
                // llama.cpp cancels the magnitude factor that ggml's rope will apply again
                attnFactor = mscale * (1.0f / (1.0f + 0.1f * (float) Math.log(f)));
            }
            attnFactor *= meta.getFloat(prefix + "rope.scaling.attn_factor", 1.0f);
            int origContext = meta.getInt(prefix + "rope.scaling.original_context_length", contextLength);
            return new Settings(dims, meta.getFloat(prefix + "rope.freq_base", 10000.0f), freqScale, extFactor, attnFactor,
                    origContext, BETA_FAST, BETA_SLOW);
        }
    }

    private final Settings s;
    private final float thetaScale;
    private final float corrLow;
    private final float corrHigh;

    public Rope(Settings settings) {
        this.s = settings;
        this.thetaScale = CMath.powf(settings.freqBase(), -2.0f / settings.dims());
        this.corrLow = Math.max(0, (float) Math.floor(corrDim(settings.betaFast())));
        this.corrHigh = Math.min(settings.dims() - 1, (float) Math.ceil(corrDim(settings.betaSlow())));
    }

    private float corrDim(float rotations) {
        return s.dims() * (float) Math.log(s.origContext() / (rotations * 2 * (float) Math.PI)) / (2 * (float) Math.log(s.freqBase()));
    }

    /** Fills {@code cache[0..dims)} with (cos, sin) pairs for position {@code pos}. */
    public void angles(int pos, float[] cache) {
        float theta = pos;
        for (int i0 = 0; i0 < s.dims(); i0 += 2) {
            float interpolated = s.freqScale() * theta;
            float angle = interpolated;
            float mscale = s.attnFactor();
            if (s.extFactor() != 0.0f) {
                float y = (i0 / 2 - corrLow) / Math.max(0.001f, corrHigh - corrLow);
                float rampMix = (1 - Math.min(1, Math.max(0, y))) * s.extFactor();
                angle = interpolated * (1 - rampMix) + theta * rampMix;
                mscale *= 1.0f + 0.1f * (float) Math.log(1.0f / s.freqScale());
            }
            cache[i0] = CMath.cosf(angle) * mscale;
            cache[i0 + 1] = CMath.sinf(angle) * mscale;
            theta *= thetaScale;
        }
    }

    /**
     * Rotates {@code x[offset..offset+dims)} in place with angles from {@link #angles}, rounded as GCC compiles ggml's
     * rotate_pairs ({@code x0*cos - x1*sin}, {@code x0*sin + x1*cos}) for every x86 CPU variant with FMA: the first
     * product fused with the sum, the second rounded on its own.
     */
    public void rotate(float[] cache, float[] x, int offset) {
        for (int i0 = 0; i0 < s.dims(); i0 += 2) {
            float x0 = x[offset + i0];
            float x1 = x[offset + i0 + 1];
            float cos = cache[i0];
            float sin = cache[i0 + 1];
            x[offset + i0] = Math.fma(x0, cos, -(x1 * sin));
            x[offset + i0 + 1] = Math.fma(x0, sin, x1 * cos);
        }
    }
}
