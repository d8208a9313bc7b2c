package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * llama.cpp's own tokenizer fixtures (models/ggml-vocab-*.gguf.inp/.out, checked by its test-tokenizer-0 with
 * add_special and parse_special off) for the other pre-tokenizers we support: qwen2 (digits one by one) and llama-bpe
 * (the glm4 splitter with ignore_merges).
 */
class TokenizerFixturesTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    @ParameterizedTest
    @ValueSource(strings = {"ggml-vocab-qwen2.gguf", "ggml-vocab-llama-bpe.gguf"})
    void fixturesTokenizeAsRecorded(String vocab) throws IOException {
        Tokenizer tokenizer;
        try (GGUFFile file = GGUFFile.open(Oracle.source("models/" + vocab))) {
            tokenizer = Tokenizer.fromGGUF(file.metadata());
        }
        byte[] raw = Files.readAllBytes(Oracle.source("models/" + vocab + ".inp"));
        List<String> expected = Files.readAllLines(Oracle.source("models/" + vocab + ".out"));
        List<byte[]> inputs = split(raw);
        assertEquals(expected.size(), inputs.size(), "fixture inputs and outputs");
        assertTrue(inputs.size() > 30, "fixture of " + inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            int[] want = expected.get(i).isBlank() ? new int[0]
                    : Arrays.stream(expected.get(i).strip().split(" ")).mapToInt(Integer::parseInt).toArray();
            int[] got = tokenizer.encode(inputs.get(i), false, false);
            assertEquals(Arrays.toString(want), Arrays.toString(got),
                    vocab + " fixture " + i + ": " + TokenizerMatchesLlamaTest.show(inputs.get(i)));
        }
    }

    private static List<byte[]> split(byte[] raw) {
        String text = new String(raw, StandardCharsets.ISO_8859_1); // byte-preserving
        List<byte[]> parts = new ArrayList<>();
        int pos = 0;
        while (pos < text.length()) {
            int next = text.indexOf(SEPARATOR, pos);
            if (next < 0) {
                parts.add(text.substring(pos).getBytes(StandardCharsets.ISO_8859_1));
                break;
            }
            parts.add(text.substring(pos, next).getBytes(StandardCharsets.ISO_8859_1));
            pos = next + SEPARATOR.length();
        }
        return parts;
    }
}
