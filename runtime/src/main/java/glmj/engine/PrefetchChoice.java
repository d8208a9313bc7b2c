package glmj.engine;

/**
 * Whether the java engine asks the OS to read the routed experts the router picked before multiplying them, so that
 * the disk reads them while attention's output and the shared expert are computed.
 */
public enum PrefetchChoice {
    /** When the weights will not stay in memory ({@link MemoryPlan#weightsStayResident}). */
    auto,
    on,
    off
}
