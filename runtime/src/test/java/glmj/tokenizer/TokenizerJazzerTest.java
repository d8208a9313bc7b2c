package glmj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Jazzer fuzzing of the tokenizer (GLM's glm4 pre-tokenizer and byte-level BPE): any bytes tokenize into valid ids,
 * with control tokens parsed or not; for UTF-8 text the tokens' pieces give the bytes back, and so does streaming them
 * one at a time. The seeds in TokenizerJazzerTestInputs run as regression tests; {@code scripts/fuzz tokenizer} fuzzes.
 */
class TokenizerJazzerTest {
    private static final Tokenizer TOKENIZER;

    static {
        try {
            TOKENIZER = TestVocabulary.builder().build(Files.createTempDirectory("glmj-tokenizer-fuzz"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "5m")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void encode(byte[] bytes) {
        boolean utf8 = isUtf8(bytes);
        for (boolean parseSpecial : new boolean[] {false, true}) {
            int[] tokens = TOKENIZER.encode(bytes, false, parseSpecial);
            ByteArrayOutputStream pieces = new ByteArrayOutputStream();
            for (int token : tokens) {
                assertTrue(token >= 0 && token < TOKENIZER.vocabularySize(), "token " + token);
                pieces.writeBytes(TOKENIZER.tokenPiece(token, true));
            }
            if (utf8) {
                assertArrayEquals(bytes, pieces.toByteArray());
                Tokenizer.StreamDecoder stream = TOKENIZER.newStreamDecoder(true);
                StringBuilder streamed = new StringBuilder();
                for (int token : tokens) {
                    streamed.append(stream.append(token));
                }
                assertEquals(new String(bytes, StandardCharsets.UTF_8), streamed.append(stream.flush()).toString());
            }
        }
    }

    private static boolean isUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
