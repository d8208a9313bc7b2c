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
        List<byte[]> inputs = inputs(vocab);
        List<int[]> expected = expected(vocab);
        assertEquals(expected.size(), inputs.size(), "fixture inputs and outputs");
        assertTrue(inputs.size() > 30, "fixture of " + inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            int[] got = tokenizer.encode(inputs.get(i), false, false);
            assertEquals(Arrays.toString(expected.get(i)), Arrays.toString(got),
                    vocab + " fixture " + i + ": " + TokenizerMatchesLlamaTest.show(inputs.get(i)));
        }
    }

    /** The texts of fixture {@code vocab}'s .inp file, as bytes. */
    static List<byte[]> inputs(String vocab) throws IOException {
        String text = new String(Files.readAllBytes(Oracle.source("models/" + vocab + ".inp")), StandardCharsets.ISO_8859_1); // byte-preserving
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

    /** The token ids recorded in fixture {@code vocab}'s .out file, one array per input. */
    static List<int[]> expected(String vocab) throws IOException {
        return Files.readAllLines(Oracle.source("models/" + vocab + ".out")).stream()
                .map(line -> line.isBlank() ? new int[0] : Arrays.stream(line.strip().split(" ")).mapToInt(Integer::parseInt).toArray())
                .toList();
    }
}
