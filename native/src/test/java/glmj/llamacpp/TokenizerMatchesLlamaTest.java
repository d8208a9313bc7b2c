package glmj.llamacpp;

import glmj.gguf.GGUFFile;
import glmj.gguf.GGUFValueType;
import glmj.gguf.GGUFWriter;
import glmj.gguf.Metadata;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our tokenizer against llama.cpp's on the same GGUF: a GLM-5 style vocabulary (qwen2's tokens and merges, pre-tokenizer
 * glm4, GLM's special tokens and special ids), compared token for token on a corpus of more than a thousand texts,
 * with parse_special and add_special both on and off, and detokenized both ways.
 */
class TokenizerMatchesLlamaTest {
    private static final long CORPUS_SEED = 0x61A5L;
    private static final int RANDOM_TEXTS = 1200;

    static final List<String> GLM_CONTROL_TOKENS = List.of(
            "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>",
            "<|observation|>", "<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_box|>", "<|end_of_box|>");
    static final List<String> GLM_USER_DEFINED_TOKENS = List.of(
            "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<arg_key>",
            "</arg_key>", "<arg_value>", "</arg_value>");

    @TempDir
    static Path dir;

    static Tokenizer ours;
    static LlamaModel llama;
    static List<byte[]> corpus;

    @BeforeAll
    static void setUp() throws IOException {
        Path vocabFile = glm5StyleVocabulary(dir);
        try (GGUFFile file = GGUFFile.open(vocabFile)) {
            ours = Tokenizer.fromGGUF(file.metadata());
        }
        llama = LlamaModel.loadVocabOnly(vocabFile);
        corpus = TokenizerCorpus.generate(CORPUS_SEED, RANDOM_TEXTS);
    }

    @AfterAll
    static void tearDown() {
        if (llama != null) {
            llama.close();
        }
    }

    /** llama.cpp's qwen2 test vocabulary turned into a GLM-5 one. */
    static Path glm5StyleVocabulary(Path dir) throws IOException {
        Path source = Oracle.source("models/ggml-vocab-qwen2.gguf");
        Path target = dir.resolve("glm5-style-vocab.gguf");
        try (GGUFFile qwen = GGUFFile.open(source)) {
            Metadata metadata = qwen.metadata();
            List<String> tokens = new ArrayList<>(Arrays.asList(metadata.getStringArray("tokenizer.ggml.tokens")));
            List<Integer> types = new ArrayList<>(Arrays.stream(metadata.getIntArray("tokenizer.ggml.token_type")).boxed().toList());
            GLM_CONTROL_TOKENS.forEach(t -> { tokens.add(t); types.add(3); });
            GLM_USER_DEFINED_TOKENS.forEach(t -> { tokens.add(t); types.add(4); });
            GGUFWriter.copyOf(qwen)
                    .putString("tokenizer.ggml.pre", "glm4")
                    .putArray("tokenizer.ggml.tokens", GGUFValueType.STRING, tokens.toArray(String[]::new))
                    .putArray("tokenizer.ggml.token_type", GGUFValueType.INT32, types.stream().mapToInt(i -> i).toArray())
                    .putUInt32("tokenizer.ggml.bos_token_id", tokens.indexOf("[gMASK]"))
                    .putUInt32("tokenizer.ggml.eos_token_id", tokens.indexOf("<|endoftext|>"))
                    .putUInt32("tokenizer.ggml.eot_token_id", tokens.indexOf("<|user|>"))
                    .putUInt32("tokenizer.ggml.eom_token_id", tokens.indexOf("<|observation|>"))
                    .putUInt32("tokenizer.ggml.unknown_token_id", tokens.indexOf("<|endoftext|>"))
                    .putBool("tokenizer.ggml.add_bos_token", true)
                    .write(target);
        }
        return target;
    }

    @Test
    void corpusIsLargeAndVaried() {
        assertTrue(corpus.size() >= 1000, "corpus of " + corpus.size());
        assertTrue(corpus.stream().anyMatch(t -> t.length == 0), "has the empty text");
        assertTrue(corpus.stream().mapToInt(t -> t.length).max().orElse(0) > 200, "has long texts");
    }

    @Test
    void vocabularyPiecesAndEndOfGenerationAgree() {
        int n = llama.vocabularySize();
        assertEquals(n, ours.vocabularySize());
        List<String> eog = new ArrayList<>();
        for (int id = 0; id < n; id++) {
            final int token = id;
            assertEquals(llama.isEndOfGeneration(id), ours.isEndOfGeneration(id), () -> "is_eog of " + token);
            assertArrayEquals(llama.tokenPiece(id, true), ours.tokenPiece(id, true), () -> "piece of " + token);
            assertArrayEquals(llama.tokenPiece(id, false), ours.tokenPiece(id, false), () -> "piece of " + token);
            if (ours.isEndOfGeneration(id)) {
                eog.add(ours.tokenText(id));
            }
        }
        // eos, eot and eom from the metadata, plus every token whose text is on llama.cpp's list of end texts
        assertEquals(List.of("</s>", "<|endoftext|>", "<|im_end|>", "<|user|>", "<|observation|>"), eog);
    }

    @Test
    void everyCorpusTextTokenizesExactlyLikeLlamaCpp() {
        int compared = 0;
        List<String> mismatches = new ArrayList<>();
        long nanos = 0;
        for (byte[] text : corpus) {
            for (boolean parseSpecial : new boolean[] {false, true}) {
                for (boolean addSpecial : new boolean[] {false, true}) {
                    int[] expected = llama.tokenize(text, addSpecial, parseSpecial);
                    long start = System.nanoTime();
                    int[] actual = ours.encode(text, addSpecial, parseSpecial);
                    nanos += System.nanoTime() - start;
                    compared++;
                    if (!Arrays.equals(expected, actual)) {
                        mismatches.add("parse_special=" + parseSpecial + " add_special=" + addSpecial + " text="
                                + show(text) + "\n  llama.cpp " + Arrays.toString(expected) + "\n  ours      "
                                + Arrays.toString(actual));
                    }
                }
            }
        }
        System.out.printf("tokenizer vs llama.cpp: %d texts, %d encodings compared, %d equal; ours took %.1f ms in total%n",
                corpus.size(), compared, compared - mismatches.size(), nanos / 1e6);
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + compared + " differ, first:\n"
                + String.join("\n", mismatches.subList(0, Math.min(5, mismatches.size()))));
    }

    @Test
    void detokenizationMatchesLlamaCpp() {
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        for (byte[] text : corpus) {
            int[] tokens = llama.tokenize(text, true, true);
            for (boolean removeSpecial : new boolean[] {false, true}) {
                for (boolean unparseSpecial : new boolean[] {false, true}) {
                    byte[] expected = llama.detokenize(tokens, removeSpecial, unparseSpecial);
                    byte[] actual = ours.decodeBytes(tokens, removeSpecial, unparseSpecial);
                    compared++;
                    if (!Arrays.equals(expected, actual)) {
                        mismatches.add("remove_special=" + removeSpecial + " unparse_special=" + unparseSpecial
                                + " text=" + show(text) + "\n  llama.cpp " + show(expected) + "\n  ours      " + show(actual));
                    }
                }
            }
        }
        System.out.printf("detokenizer vs llama.cpp: %d decodings compared, %d equal%n", compared, compared - mismatches.size());
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + compared + " differ, first:\n"
                + String.join("\n", mismatches.subList(0, Math.min(5, mismatches.size()))));
    }

    @Test
    void encodingSomeKilobytesTakesMilliseconds() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 4096; i++) {
            text.append(TokenizerCorpus.CODE.get(i % TokenizerCorpus.CODE.size())).append('\n')
                    .append(TokenizerCorpus.SCRIPTS.get(i % TokenizerCorpus.SCRIPTS.size())).append(' ');
        }
        byte[] utf8 = text.toString().getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(llama.tokenize(utf8, false, true), ours.encode(utf8, false, true));
        for (int i = 0; i < 20; i++) {
            ours.encode(text.toString() + i, false, true); // warm up, with fresh words so the cache is not all
        }
        long[] micros = IntStream.range(0, 21).mapToLong(i -> {
            String fresh = i + text.toString();
            long start = System.nanoTime();
            ours.encode(fresh, false, true);
            return (System.nanoTime() - start) / 1000;
        }).sorted().toArray();
        System.out.printf("encoding %d bytes: median %.2f ms, max %.2f ms%n", utf8.length, micros[10] / 1e3, micros[20] / 1e3);
        assertTrue(micros[10] < 50_000, "median " + micros[10] + " us to encode " + utf8.length + " bytes");
    }

    static String show(byte[] bytes) {
        StringBuilder out = new StringBuilder("\"");
        new String(bytes, StandardCharsets.UTF_8).codePoints().forEach(c -> {
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                out.append((char) c);
            } else {
                out.append(String.format("\\u{%x}", c));
            }
        });
        return out.append('"').toString();
    }

}
