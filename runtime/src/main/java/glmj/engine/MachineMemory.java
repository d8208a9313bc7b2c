package glmj.engine;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The machine's physical memory as a run sees it: all of it (a container's limit, where there is one) and what is
 * available to new allocations without swapping, counting the file cache the kernel can drop (Linux's
 * {@code MemAvailable}; elsewhere the memory the JVM reports free).
 */
public record MachineMemory(long total, long available) {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    /** The memory now. */
    public static MachineMemory now() {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long total = os.getTotalMemorySize();
        long available = os.getFreeMemorySize();
        if (Files.isReadable(MEMINFO)) {
            try {
                available = memAvailable(Files.readAllLines(MEMINFO), available);
            } catch (IOException unreadable) {
                // keep the JVM's figure
            }
        }
        return new MachineMemory(total, Math.min(total, available));
    }

    /** {@code MemAvailable} of /proc/meminfo's lines, in bytes; {@code otherwise} when it has none. */
    static long memAvailable(List<String> meminfo, long otherwise) {
        for (String line : meminfo) {
            if (line.startsWith("MemAvailable:")) {
                String[] fields = line.substring("MemAvailable:".length()).trim().split("\\s+");
                return Long.parseLong(fields[0]) * 1024;
            }
        }
        return otherwise;
    }
}
