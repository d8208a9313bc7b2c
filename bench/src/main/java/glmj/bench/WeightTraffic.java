package glmj.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Weight bytes a benchmark read, in GB (10^9 bytes), as a JMH secondary result: JMH divides it by the iteration's time,
 * so {@code :weightGB} lines in its output are GB/s (labelled {@code ops/s}, JMH's unit for every rate).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class WeightTraffic {
    public double weightGB;

    @Setup(Level.Iteration)
    public void reset() {
        weightGB = 0;
    }
}
