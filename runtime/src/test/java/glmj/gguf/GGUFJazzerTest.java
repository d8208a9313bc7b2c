package glmj.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Jazzer fuzzing of the GGUF reader: any bytes either parse (and then every value and every tensor's bytes are
 * readable, the tensors laid out as llama.cpp requires) or are refused with a one-line {@link GGUFFormatException}
 * naming the file. The seeds in GGUFJazzerTestInputs run as regression tests; {@code scripts/fuzz gguf} fuzzes.
 */
class GGUFJazzerTest {
    private static final Path FILE = Path.of("fuzzed.gguf");

    @FuzzTest(maxDuration = "5m")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void parse(byte[] bytes) {
        GGUFShard shard;
        try {
            shard = GGUFShard.parse(FILE, MemorySegment.ofArray(bytes));
        } catch (GGUFFormatException refused) {
            assertTrue(refused.getMessage().startsWith(FILE + ": "), refused.getMessage());
            assertFalse(refused.getMessage().contains("\n"), refused.getMessage());
            return;
        }
        Metadata metadata = shard.metadata();
        for (String key : metadata.keys()) {
            assertNotNull(metadata.get(key), key);
        }
        long end = 0;
        for (TensorInfo tensor : shard.tensors()) {
            MemorySegment data = tensor.data();
            assertEquals(tensor.byteSize(), data.byteSize(), tensor.name());
            assertEquals(shard.dataOffset() + end, tensor.fileOffset(), tensor.name());
            if (data.byteSize() > 0) {
                data.get(ValueLayout.JAVA_BYTE, 0);
                data.get(ValueLayout.JAVA_BYTE, data.byteSize() - 1);
            }
            end += GGUFShard.alignUp(tensor.byteSize(), shard.alignment());
        }
    }
}
