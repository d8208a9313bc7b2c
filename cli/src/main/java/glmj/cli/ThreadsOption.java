package glmj.cli;

import picocli.CommandLine.Option;

/** {@code -t}, as every command that computes names it: threads, from 1 to the cores this machine has. */
final class ThreadsOption {
    /** The cores this JVM may use: the default and the most. */
    static final int CORES = Runtime.getRuntime().availableProcessors();

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Threads, at most the number of cores (default: the number of cores, ${DEFAULT-VALUE}).")
    int count = CORES;

    /** The threads asked for, once checked: at least 1, at most {@link #CORES}. */
    int checked() {
        if (count < 1 || count > CORES) {
            throw new UserInputException("-t must be from 1 to " + CORES + " (the cores here), not " + count);
        }
        return count;
    }
}
