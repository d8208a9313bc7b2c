package glmj.testdata;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a safetensors file in two steps, so that tensors too big to hold can be made in place: declare every tensor
 * (name, dtype, shape), then {@link #open} the file, which writes the header ({@code __metadata__ {"format": "pt"}}
 * first, as PyTorch's writer does; padded with spaces to 8 bytes) and maps the data, and fill each tensor's
 * {@link Output#segment} in any order, from any thread.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Entry(String dtype, long[] shape, long begin, long end) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private long dataBytes;

    /** Declares a tensor of {@code elementBytes}-byte elements of safetensors type {@code dtype}; returns its byte size. */
    public long add(String name, String dtype, int elementBytes, long... shape) {
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        long bytes = elementBytes;
        for (long d : shape) {
            bytes *= d;
        }
        entries.put(name, new Entry(dtype, shape.clone(), dataBytes, dataBytes + bytes));
        dataBytes += bytes;
        return bytes;
    }

    /** Writes the header to {@code file} and maps the data section, for the tensors to be filled. */
    public Output open(Path file) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype);
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(e.getValue().begin).add(e.getValue().end);
        }
        StringBuilder json = new StringBuilder(JSON.writeValueAsString(header));
        while ((8 + json.toString().getBytes(StandardCharsets.UTF_8).length) % 8 != 0) {
            json.append(' ');
        }
        byte[] headerBytes = json.toString().getBytes(StandardCharsets.UTF_8);
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            long total = 8L + headerBytes.length + dataBytes;
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
            mapped.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, headerBytes.length);
            MemorySegment.copy(headerBytes, 0, mapped, ValueLayout.JAVA_BYTE, 8, headerBytes.length);
            return new Output(arena, mapped.asSlice(8L + headerBytes.length));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The mapped data section of a file being written; closing it unmaps the file. */
    public final class Output implements AutoCloseable {
        private final Arena arena;
        private final MemorySegment data;

        private Output(Arena arena, MemorySegment data) {
            this.arena = arena;
            this.data = data;
        }

        /** Where tensor {@code name}'s bytes go. */
        public MemorySegment segment(String name) {
            Entry e = entries.get(name);
            if (e == null) {
                throw new IllegalArgumentException("no tensor " + name);
            }
            return data.asSlice(e.begin, e.end - e.begin);
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
