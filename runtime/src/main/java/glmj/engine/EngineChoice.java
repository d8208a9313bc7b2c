package glmj.engine;

/** The engines a model can run on. */
public enum EngineChoice {
    /** glmj's own forward pass in Java. */
    java,
    /** llama.cpp v0.5.0 through glmj's bindings (Metal on Macs, the CPU elsewhere). */
    llama
}
