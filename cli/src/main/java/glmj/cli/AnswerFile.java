package glmj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@code -o} file of a batch: one JSON line per prompt, appended as each finishes. A run killed while writing
 * leaves at most its last line incomplete (any byte of it, even inside a UTF-8 character); {@link #repair} cuts that
 * line off before more are appended, so the file stays valid JSONL and {@link #answered} counts only whole lines.
 */
final class AnswerFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bytes read at a time from the end of the file while looking for the start of its last line. */
    private static final int CHUNK = 8192;

    private AnswerFile() {}

    /**
     * Makes {@code file} end in a whole line before more lines are appended: a last line that is a whole JSON object
     * gets its newline, one that begins like a JSON object but was cut short is removed (what it said is returned, for
     * the user), and any other text is left, ended by a newline.
     */
    static String repair(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            long lineStart = lastLineStart(channel, size);
            if (lineStart == size) {
                return null;
            }
            ByteBuffer first = ByteBuffer.allocate(1);
            channel.read(first, lineStart);
            if (first.get(0) == '{' && size - lineStart < Integer.MAX_VALUE) {
                ByteBuffer tail = ByteBuffer.allocate((int) (size - lineStart));
                channel.read(tail, lineStart);
                if (answer(tail.array(), tail.position()) == null) {
                    channel.truncate(lineStart);
                    return "removed the last line of " + file + ", cut short by an interrupted run (" + (size - lineStart) + " bytes)";
                }
            }
            channel.write(ByteBuffer.wrap(new byte[] {'\n'}), size);
            return null;
        }
    }

    /** Where the last line of the file begins: after its last newline, or 0. */
    private static long lastLineStart(FileChannel channel, long size) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
        for (long end = size; end > 0; ) {
            long start = Math.max(0, end - CHUNK);
            chunk.clear().limit((int) (end - start));
            channel.read(chunk, start);
            for (int i = chunk.position() - 1; i >= 0; i--) {
                if (chunk.get(i) == '\n') {
                    return start + i + 1;
                }
            }
            end = start;
        }
        return 0;
    }

    /** How many lines of {@code file} answer each id: whole JSON objects with an "id" (an answer or an error). */
    static Map<String, Integer> answered(Path file) throws IOException {
        Map<String, Integer> counts = new HashMap<>();
        if (!Files.isRegularFile(file)) {
            return counts;
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = in.read(); b != -1; b = in.read()) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                String id = answer(line.toByteArray(), line.size());
                if (id != null) {
                    counts.merge(id, 1, Integer::sum);
                }
                line.reset();
            }
        }
        return counts;
    }

    /** The id of a line that is a whole JSON object with an "id", else null. */
    private static String answer(byte[] bytes, int length) {
        try {
            JsonNode node = JSON.readTree(bytes, 0, length);
            return node != null && node.isObject() && node.hasNonNull("id") ? node.get("id").asText() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
