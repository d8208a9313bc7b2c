package glmj.engine;

import glmj.kernel.Kernels;

/**
 * A kernel backend found at run time ({@link java.util.ServiceLoader}), such as ggml's kernels in the native module,
 * which depends on this one and so cannot be named here.
 */
public interface KernelsProvider {

    /** The backend's name, as {@link KernelChoice} names it. */
    String name();

    /**
     * The backend on {@code threads} threads; with {@code exact}, every matmul rounds as ggml's own kernels do (see
     * {@link ModelOptions#exactKernels}).
     *
     * @throws BackendUnavailableException when it cannot run here
     */
    Kernels create(int threads, boolean exact);
}
