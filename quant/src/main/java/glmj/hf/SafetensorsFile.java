package glmj.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import glmj.tensor.blocks.LittleEndian;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static glmj.hf.CheckpointFormatException.quote;

/**
 * One safetensors file, parsed from its mapping: an 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}}, then the tensors' bytes, the
 * offsets counting from the end of the header. Every entry is checked against the file before any tensor is read:
 * its dtype is one glmj reads, its byte range lies inside the file and holds exactly its shape's elements, and no two
 * ranges overlap.
 */
final class SafetensorsFile {
    /** The safetensors library's own limit on the header. */
    static final long MAX_HEADER_BYTES = 100_000_000;
    static final String METADATA_KEY = "__metadata__";

    static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SafetensorsFile() {
    }

    /** The tensors of {@code file}, whose whole content is {@code mapped}, in header order. */
    static List<SafetensorsTensor> parse(Path file, MemorySegment mapped) {
        long size = mapped.byteSize();
        if (size < 8) {
            throw new CheckpointFormatException(file, "not a safetensors file: " + size + " bytes, too short for the header length");
        }
        long headerLength = mapped.get(LittleEndian.LONG, 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointFormatException(file, "not a safetensors file: header length " + Long.toUnsignedString(headerLength)
                    + " is outside 2.." + MAX_HEADER_BYTES);
        }
        if (8 + headerLength > size) {
            throw new CheckpointFormatException(file, "truncated: the header needs " + (8 + headerLength) + " bytes, the file has " + size);
        }
        byte[] header = mapped.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = JSON.readTree(new String(header, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(file, "the header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointFormatException(file, "the header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        MemorySegment data = mapped.asSlice(dataStart);
        List<SafetensorsTensor> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            if (entry.getKey().equals(METADATA_KEY)) {
                continue;
            }
            tensors.add(tensor(file, entry.getKey(), entry.getValue(), data));
        }
        checkNoOverlap(file, tensors);
        return List.copyOf(tensors);
    }

    private static SafetensorsTensor tensor(Path file, String name, JsonNode entry, MemorySegment data) {
        String what = "tensor " + quote(name);
        if (!entry.isObject()) {
            throw new CheckpointFormatException(file, what + ": its header entry is not an object");
        }
        JsonNode dtypeNode = entry.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointFormatException(file, what + " has no dtype");
        }
        SafetensorsDtype dtype = SafetensorsDtype.of(dtypeNode.asText());
        if (dtype == null) {
            throw new CheckpointFormatException(file, what + " has dtype " + quote(dtypeNode.asText()) + "; glmj reads "
                    + SafetensorsDtype.names());
        }
        long[] shape = longs(file, what, "shape", entry.get("shape"), -1);
        long[] offsets = longs(file, what, "data_offsets", entry.get("data_offsets"), 2);
        long elements = 1;
        for (long d : shape) {
            elements = multiply(file, what, elements, d);
        }
        long bytes = multiply(file, what, elements, dtype.size);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new CheckpointFormatException(file, what + " has data_offsets [" + begin + ", " + end + "] that end before they begin");
        }
        if (end > data.byteSize()) {
            throw new CheckpointFormatException(file, what + " has data_offsets [" + begin + ", " + end + "] past the end of the data ("
                    + data.byteSize() + " bytes)");
        }
        if (end - begin != bytes) {
            throw new CheckpointFormatException(file, what + " is " + dtype + " " + Arrays.toString(shape) + ", " + bytes
                    + " bytes, but its data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new SafetensorsTensor(name, dtype, shape, data.asSlice(begin, bytes), file);
    }

    /** A JSON array of non-negative integers, of {@code length} elements unless that is negative. */
    private static long[] longs(Path file, String what, String field, JsonNode node, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new CheckpointFormatException(file, what + " has no " + field + (length >= 0 ? " of " + length + " integers" : " array"));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode n = node.get(i);
            if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
                throw new CheckpointFormatException(file, what + " has " + field + " " + node + ", not non-negative integers");
            }
            out[i] = n.asLong();
        }
        return out;
    }

    private static long multiply(Path file, String what, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, what + " is too large to address");
        }
    }

    private static void checkNoOverlap(Path file, List<SafetensorsTensor> tensors) {
        List<SafetensorsTensor> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(t -> t.data().address()));
        for (int i = 1; i < byOffset.size(); i++) {
            SafetensorsTensor previous = byOffset.get(i - 1);
            SafetensorsTensor next = byOffset.get(i);
            if (next.data().address() < previous.data().address() + previous.data().byteSize()) {
                throw new CheckpointFormatException(file, "tensors " + quote(previous.name()) + " and " + quote(next.name())
                        + " overlap in the file");
            }
        }
    }
}
