package glmj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A batch's answer file cut at any byte, as a kill -9 can leave it, is repaired to the whole lines before the cut. */
class AnswerFileTest {
    @TempDir
    Path dir;

    @Test
    void aFileCutAtAnyByteKeepsItsWholeLines() throws Exception {
        byte[] bytes = BatchResumeTest.completeAnswers(dir);
        assertTrue(new String(bytes, StandardCharsets.UTF_8).length() < bytes.length, "the answers hold multi-byte characters");
        Path cut = dir.resolve("cut.jsonl");
        for (int length = 0; length <= bytes.length; length++) {
            Files.write(cut, Arrays.copyOf(bytes, length));
            AnswerFile.repair(cut);
            // the whole lines before the cut stay, and the line the cut ends too when only its newline was lost
            int kept = wholeLines(bytes, length < bytes.length && bytes[length] == '\n' ? length + 1 : length);
            assertEquals(new String(bytes, 0, kept, StandardCharsets.UTF_8), Files.readString(cut), "cut at byte " + length);
            Map<String, Integer> lines = BatchResumeTest.validLines(cut);
            assertEquals(lines, AnswerFile.answered(cut), "cut at byte " + length);
        }
    }

    /** The length of the whole lines within the first {@code length} bytes. */
    private static int wholeLines(byte[] bytes, int length) {
        for (int i = length - 1; i >= 0; i--) {
            if (bytes[i] == '\n') {
                return i + 1;
            }
        }
        return 0;
    }

    @Test
    void aFileOfOtherTextIsOnlyEnded() throws Exception {
        Path notes = Files.writeString(dir.resolve("notes.txt"), "some notes\nwithout a final newline");
        AnswerFile.repair(notes);
        assertEquals("some notes\nwithout a final newline\n", Files.readString(notes));
        assertEquals(Map.of(), AnswerFile.answered(notes));
    }
}
