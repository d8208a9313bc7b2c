package glmj.llamacpp;

import glmj.engine.KernelChoice;
import glmj.engine.KernelsProvider;
import glmj.kernel.Kernels;

/** ggml's kernels ({@link GgmlKernels}) for the runtime, which finds them through {@link java.util.ServiceLoader}. */
public final class GgmlKernelsProvider implements KernelsProvider {
    @Override
    public String name() {
        return KernelChoice.ggml.name();
    }

    @Override
    public Kernels create(int threads, boolean exact) {
        return new GgmlKernels(threads, !exact);
    }
}
