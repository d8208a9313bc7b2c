package glmj.llamacpp;

import glmj.testdata.TestModels;
import glmj.testdata.TinyGlmDsa;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * llama.cpp v0.5.0 loads and runs the tiny GLM-5 models: as glm-dsa with our layer count and width, with every tensor
 * it asks for (a missing or surplus tensor fails the load, and its log is the failure message), and a prompt longer
 * than the indexer's top-k decodes to finite, varied logits over the whole vocabulary. The split set loads too.
 */
class TinyGlmDsaLoadsInLlamaTest {
    /** Long enough that the DSA indexer must choose {@link TinyGlmDsa#INDEXER_TOP_K} keys out of many. */
    private static final String PROMPT = "[gMASK]<sop><|system|>You are a careful assistant who answers briefly."
            + "<|user|>The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly. "
            + "Pack my box with five dozen liquor jugs, then explain which of these sentences are pangrams and why. "
            + "Answer in two short paragraphs and count the letters of each sentence."
            + "<|assistant|><think>";

    private static LlamaCpp llama;

    @BeforeAll
    static void loadLibraries() {
        llama = LlamaCpp.load();
    }

    @Test
    void quantizedMixLoadsAndDecodes() {
        checkModel(TestModels.tinyQuantMix());
    }

    @Test
    void f32LoadsAndDecodes() {
        checkModel(TestModels.tinyF32());
    }

    @Test
    void embeddedDefaultLoadsAndDecodes() {
        checkModel(TestModels.embeddedDefault());
    }

    @Test
    void splitSetLoadsAndDecodes(@TempDir Path dir) throws IOException {
        int perShard = (TinyGlmDsa.tensorCount() + 1) / 2;
        List<Path> shards = TinyGlmDsa.writeSplit(dir, "tiny-glm-dsa", TinyGlmDsa.Variant.UD_Q2_K_XL, perShard);
        assertEquals(2, shards.size());
        assertEquals("tiny-glm-dsa-00001-of-00002.gguf", shards.getFirst().getFileName().toString());
        checkModel(shards.getFirst());
    }

    private static void checkModel(Path file) {
        llama.log.setLength(0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment model = llama.loadModel(arena, file);
            if (model.equals(MemorySegment.NULL)) {
                fail("llama.cpp could not load " + file + ":\n" + llama.log);
            }
            try {
                assertEquals(TinyGlmDsa.ARCHITECTURE, llama.metaString(arena, model, "general.architecture"));
                assertEquals(TinyGlmDsa.BLOCK_COUNT, llama.nLayer(model));
                assertEquals(TinyGlmDsa.EMBEDDING_LENGTH, llama.nEmbd(model));
                MemorySegment vocab = llama.vocab(model);
                int vocabSize = llama.nTokens(vocab);
                assertEquals(TinyGlmDsa.vocabularySize(), vocabSize);

                int[] tokens = llama.tokenize(arena, vocab, PROMPT);
                assertTrue(tokens.length >= 60, "prompt of " + tokens.length + " tokens");
                assertTrue(tokens.length > 3 * TinyGlmDsa.INDEXER_TOP_K);
                assertEquals("[gMASK]", llama.tokenText(vocab, tokens[0]), "the prompt starts with one special token");

                MemorySegment context = llama.newContext(model);
                assertNotEquals(MemorySegment.NULL, context, () -> "no context:\n" + llama.log);
                try {
                    int rc = llama.decode(arena, context, tokens);
                    assertEquals(0, rc, () -> "llama_decode returned " + rc + ":\n" + llama.log);
                    float[] logits = llama.lastLogits(context, vocabSize);
                    float min = Float.POSITIVE_INFINITY;
                    float max = Float.NEGATIVE_INFINITY;
                    for (float v : logits) {
                        assertTrue(Float.isFinite(v), "non-finite logit " + v);
                        min = Math.min(min, v);
                        max = Math.max(max, v);
                    }
                    assertTrue(max - min > 1e-3f, "logits all equal to " + min);
                    System.out.printf("%s: %d tokens, logits in [%.3f, %.3f]%n", file.getFileName(), tokens.length, min, max);
                } finally {
                    llama.freeContext(context);
                }
            } finally {
                llama.freeModel(model);
            }
        }
        assertFalse(llama.log.toString().contains("missing tensor"), llama.log::toString);
    }

    /** The few llama.cpp functions this test calls, bound directly; the log goes to {@link #log}. */
    static final class LlamaCpp {
        /** llama_model_params, llama_context_params and llama_batch are passed in memory: only their size matters. */
        private static final MemoryLayout MODEL_PARAMS = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(10, JAVA_LONG));
        private static final MemoryLayout CONTEXT_PARAMS = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(20, JAVA_LONG));
        private static final MemoryLayout BATCH = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(7, JAVA_LONG));

        final StringBuilder log = new StringBuilder();
        private final Linker linker = Linker.nativeLinker();
        private final SymbolLookup lookup;

        private LlamaCpp(SymbolLookup lookup) {
            this.lookup = lookup;
        }

        static LlamaCpp load() {
            String dir = System.getProperty("glmj.llama.lib");
            Path lib = dir == null ? null : Path.of(dir).resolve("libllama.v0.5.0.so");
            if (lib == null || !Files.isRegularFile(lib)) {
                fail("llama.cpp v0.5.0 libraries not found (glmj.llama.lib=" + dir + "); run scripts/install-llama");
            }
            LlamaCpp llama = new LlamaCpp(SymbolLookup.libraryLookup(lib, Arena.global()));
            llama.init(Path.of(dir));
            return llama;
        }

        private void init(Path libDir) {
            try {
                MethodHandle onLog = MethodHandles.lookup().bind(this, "onLog",
                        MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
                MemorySegment stub = linker.upcallStub(onLog, FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), Arena.global());
                handle("llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS)).invokeExact(stub, MemorySegment.NULL);
                handle("ggml_backend_load_all_from_path", FunctionDescriptor.ofVoid(ADDRESS))
                        .invokeExact(Arena.global().allocateFrom(libDir.toString()));
                handle("llama_backend_init", FunctionDescriptor.ofVoid()).invokeExact();
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        @SuppressWarnings("unused")
        private void onLog(int level, MemorySegment text, MemorySegment user) {
            synchronized (log) {
                log.append(text.reinterpret(Long.MAX_VALUE).getString(0));
            }
        }

        MemorySegment loadModel(Arena arena, Path file) {
            try {
                MemorySegment params = (MemorySegment) handle("llama_model_default_params", FunctionDescriptor.of(MODEL_PARAMS))
                        .invokeExact((SegmentAllocator) arena);
                return (MemorySegment) handle("llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS))
                        .invokeExact(arena.allocateFrom(file.toString()), params);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        String metaString(Arena arena, MemorySegment model, String key) {
            MemorySegment buffer = arena.allocate(256);
            try {
                int n = (int) handle("llama_model_meta_val_str", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG))
                        .invokeExact(model, arena.allocateFrom(key), buffer, buffer.byteSize());
                return n < 0 ? null : buffer.getString(0);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        int nLayer(MemorySegment model) {
            return intOf("llama_model_n_layer", model);
        }

        int nEmbd(MemorySegment model) {
            return intOf("llama_model_n_embd", model);
        }

        MemorySegment vocab(MemorySegment model) {
            return addressOf("llama_model_get_vocab", model);
        }

        int nTokens(MemorySegment vocab) {
            return intOf("llama_vocab_n_tokens", vocab);
        }

        int[] tokenize(Arena arena, MemorySegment vocab, String text) {
            MemorySegment utf8 = arena.allocateFrom(text);
            int length = (int) utf8.byteSize() - 1;
            MemorySegment out = arena.allocate(JAVA_INT, 4096);
            try {
                int n = (int) handle("llama_tokenize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                        JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN)).invokeExact(vocab, utf8, length, out, 4096, true, true);
                assertTrue(n > 0, "llama_tokenize returned " + n);
                return out.asSlice(0, (long) n * Integer.BYTES).toArray(JAVA_INT);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        String tokenText(MemorySegment vocab, int token) {
            try {
                MemorySegment text = (MemorySegment) handle("llama_vocab_get_text", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT))
                        .invokeExact(vocab, token);
                return text.reinterpret(Long.MAX_VALUE).getString(0);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        MemorySegment newContext(MemorySegment model) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment params = (MemorySegment) handle("llama_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS))
                        .invokeExact((SegmentAllocator) arena);
                return (MemorySegment) handle("llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, CONTEXT_PARAMS))
                        .invokeExact(model, params);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        int decode(Arena arena, MemorySegment context, int[] tokens) {
            try {
                MemorySegment ids = arena.allocateFrom(JAVA_INT, tokens);
                MemorySegment batch = (MemorySegment) handle("llama_batch_get_one", FunctionDescriptor.of(BATCH, ADDRESS, JAVA_INT))
                        .invokeExact((SegmentAllocator) arena, ids, tokens.length);
                return (int) handle("llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH)).invokeExact(context, batch);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        float[] lastLogits(MemorySegment context, int vocabSize) {
            try {
                MemorySegment logits = (MemorySegment) handle("llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT))
                        .invokeExact(context, -1);
                assertNotEquals(MemorySegment.NULL, logits, "no logits for the last token");
                return logits.reinterpret((long) vocabSize * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        void freeContext(MemorySegment context) {
            voidOf("llama_free", context);
        }

        void freeModel(MemorySegment model) {
            voidOf("llama_model_free", model);
        }

        private int intOf(String function, MemorySegment pointer) {
            try {
                return (int) handle(function, FunctionDescriptor.of(JAVA_INT, ADDRESS)).invokeExact(pointer);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        private MemorySegment addressOf(String function, MemorySegment pointer) {
            try {
                return (MemorySegment) handle(function, FunctionDescriptor.of(ADDRESS, ADDRESS)).invokeExact(pointer);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        private void voidOf(String function, MemorySegment pointer) {
            try {
                handle(function, FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(pointer);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        private MethodHandle handle(String function, FunctionDescriptor descriptor) {
            return linker.downcallHandle(lookup.findOrThrow(function), descriptor);
        }
    }
}
