package glmj.engine;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The machine's physical memory as a run sees it: all of it (a container's limit, where there is one) and what is
 * available to new allocations without swapping, counting the file cache the kernel can drop (Linux's
 * {@code MemAvailable}). Elsewhere (macOS) the JVM's free figure leaves that cache out, and on a Mac that has read a
 * model once it is a small part of what the OS would hand over, so there all the memory counts as available.
 */
public record MachineMemory(long total, long available) {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    /** The memory now. */
    public static MachineMemory now() {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long total = os.getTotalMemorySize();
        long available = total;
        if (Files.isReadable(MEMINFO)) {
            try {
                available = memAvailable(Files.readAllLines(MEMINFO), available);
            } catch (IOException unreadable) {
                // all of it, as where there is no /proc/meminfo
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
