package glmj.engine;

import glmj.gguf.TensorInfo;
import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Reading weights in: all of them, and on Linux in huge pages, which the kernel is asked for on theirs alone. */
class PageInTest {
    private static final long MB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void readsEveryTensorInAndAsksHugePagesForTheirPagesAlone() throws Exception {
        Path path = dir.resolve("weights.bin");
        Files.write(path, new byte[(int) (16 * MB)]);
        try (Arena arena = Arena.ofShared(); FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            // two tensors with a gap between them that decoding does not read (as a larger-than-memory run's experts)
            List<TensorInfo> tensors = List.of(tensor("a", file, 4 * MB, 3 * MB), tensor("b", file, 9 * MB, 5 * MB + 100));
            try (PageIn pageIn = PageIn.start(tensors)) {
                assertTrue(pageIn.await(60_000));
                assertEquals(8 * MB + 100, pageIn.total());
                assertEquals(pageIn.total(), pageIn.done());
            }
            assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")
                    && Files.isDirectory(Path.of("/sys/kernel/mm/transparent_hugepage")), "Linux with transparent huge pages");
            long base = file.address();
            assertTrue(hugePagesAsked(base + 4 * MB), "the first tensor's first page");
            assertTrue(hugePagesAsked(base + 7 * MB - 1), "the first tensor's last byte");
            assertTrue(hugePagesAsked(base + 14 * MB + 99), "the second tensor's last byte");
            assertFalse(hugePagesAsked(base), "the file's start, before every tensor");
            assertFalse(hugePagesAsked(base + 8 * MB), "the gap between the tensors");
            assertFalse(hugePagesAsked(base + 15 * MB), "the file's end, past every tensor");
        }
    }

    private static TensorInfo tensor(String name, MemorySegment file, long offset, long bytes) {
        return new TensorInfo(name, GGMLType.I8, new long[] {bytes}, file.asSlice(offset, bytes), Path.of("weights.bin"), offset);
    }

    /** Whether the mapping of this process that holds {@code address} is marked for huge pages ({@code hg}). */
    private static boolean hugePagesAsked(long address) throws IOException {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                inside = Long.compareUnsigned(Long.parseUnsignedLong(range[0], 16), address) <= 0
                        && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0;
            } else if (inside && line.startsWith("VmFlags:")) {
                return List.of(line.substring("VmFlags:".length()).trim().split(" ")).contains("hg");
            }
        }
        throw new AssertionError("no mapping holds address " + Long.toHexString(address));
    }
}
