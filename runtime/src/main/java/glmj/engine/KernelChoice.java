package glmj.engine;

/** What the java engine's matmuls run on. */
public enum KernelChoice {
    /** ggml's kernels where llama.cpp's libraries load, else glmj's own. */
    auto,
    /** glmj's Panama Vector API kernels. */
    vector,
    /** ggml's CPU kernels from llama.cpp's libraries, through glmj's bindings. */
    ggml
}
