package glmj.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A model loaded by llama.cpp, for the tests that compare glmj with it: vocabulary, tokenizer and, through
 * {@link Context}, decoding with the logits of any position. Anything llama.cpp refuses fails the test with an
 * {@link AssertionError} that carries llama.cpp's log since the model was loaded.
 */
final class LlamaModel implements AutoCloseable {
    /** llama.cpp's log since the most recent load; one sink serves every model, as llama.cpp has one logger. */
    private static final StringBuilder LOG = new StringBuilder();

    private final Arena arena = Arena.ofShared();
    private final String name;
    private final MemorySegment model;
    private final MemorySegment vocab;
    /** Output buffer of token_to_piece and detokenize, grown when llama.cpp asks for more. */
    private MemorySegment text;

    private LlamaModel(List<Path> files, boolean vocabOnly) {
        name = files.getFirst().toString();
        MemorySegment params = LlamaEngine.modelParams(arena);
        Llama.llama_model_params.vocab_only(params, vocabOnly);
        MemorySegment loaded;
        if (files.size() == 1) {
            // llama.cpp finds the other shards itself when the name is <name>-00001-of-0000N.gguf
            loaded = Llama.llama_model_load_from_file(arena.allocateFrom(name), params);
        } else {
            loaded = LlamaEngine.loadModel(arena, files, params);
        }
        if (loaded.equals(MemorySegment.NULL)) {
            arena.close();
            throw new AssertionError("llama.cpp could not load " + name + ":\n" + log());
        }
        model = loaded;
        vocab = Llama.llama_model_get_vocab(model);
        text = arena.allocate(1 << 16);
    }

    /** Loads {@code file} with its weights; the first shard of a split set brings the others. */
    static LlamaModel load(Path file) {
        return load(List.of(file), false);
    }

    /** Loads the vocabulary of {@code file} only, enough for tokenizing and detokenizing. */
    static LlamaModel loadVocabOnly(Path file) {
        return load(List.of(file), true);
    }

    /** Loads one file, or the shards of a split set given in order whatever their names. */
    static LlamaModel load(List<Path> files, boolean vocabOnly) {
        Oracle.library();
        synchronized (LOG) {
            LOG.setLength(0);
        }
        LlamaLibrary.setLogSink(LlamaModel::record);
        return new LlamaModel(files, vocabOnly);
    }

    private static void record(int level, String line) {
        synchronized (LOG) {
            LOG.append(line).append('\n');
        }
    }

    /** llama.cpp's log since the most recent load. */
    static String log() {
        synchronized (LOG) {
            return LOG.toString();
        }
    }

    /** The metadata value of {@code key} as llama.cpp prints it, or null if the model has no such key. */
    String metadata(String key) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment keyText = call.allocateFrom(key);
            MemorySegment buffer = call.allocate(256);
            int length = Llama.llama_model_meta_val_str(model, keyText, buffer, buffer.byteSize());
            if (length >= buffer.byteSize()) {
                buffer = call.allocate(length + 1L);
                length = Llama.llama_model_meta_val_str(model, keyText, buffer, buffer.byteSize());
            }
            return length < 0 ? null : buffer.getString(0);
        }
    }

    int layerCount() {
        return Llama.llama_model_n_layer(model);
    }

    int embeddingLength() {
        return Llama.llama_model_n_embd(model);
    }

    int vocabularySize() {
        return Llama.llama_vocab_n_tokens(vocab);
    }

    boolean isEndOfGeneration(int token) {
        return Llama.llama_vocab_is_eog(vocab, token);
    }

    /** The token's text as stored in the vocabulary (byte-level BPE form). */
    String tokenText(int token) {
        return Llama.llama_vocab_get_text(vocab, token).reinterpret(Long.MAX_VALUE).getString(0);
    }

    int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        return tokenize(text.getBytes(StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    int[] tokenize(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment bytes = call.allocate(Math.max(1, utf8.length));
            MemorySegment.copy(utf8, 0, bytes, JAVA_BYTE, 0, utf8.length);
            int capacity = utf8.length + 4; // at most one token per byte, plus the added specials
            MemorySegment tokens = call.allocate(JAVA_INT, capacity);
            int count = Llama.llama_tokenize(vocab, bytes, utf8.length, tokens, capacity, addSpecial, parseSpecial);
            if (count < 0) {
                throw new AssertionError("llama_tokenize needs " + -count + " tokens for " + utf8.length + " bytes, more than " + capacity);
            }
            return tokens.asSlice(0, count * JAVA_INT.byteSize()).toArray(JAVA_INT);
        }
    }

    /** The bytes llama.cpp prints for {@code token}; {@code special} prints control tokens too. */
    byte[] tokenPiece(int token, boolean special) {
        int length = Llama.llama_token_to_piece(vocab, token, text, (int) text.byteSize(), 0, special);
        if (length < 0) {
            text = arena.allocate(-length);
            length = Llama.llama_token_to_piece(vocab, token, text, (int) text.byteSize(), 0, special);
        }
        return text.asSlice(0, length).toArray(JAVA_BYTE);
    }

    byte[] detokenize(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment ids = call.allocateFrom(JAVA_INT, tokens.length == 0 ? new int[1] : tokens);
            int length = Llama.llama_detokenize(vocab, ids, tokens.length, text, (int) text.byteSize(), removeSpecial, unparseSpecial);
            if (length < 0) {
                text = arena.allocate(-length);
                length = Llama.llama_detokenize(vocab, ids, tokens.length, text, (int) text.byteSize(), removeSpecial, unparseSpecial);
            }
            return text.asSlice(0, length).toArray(JAVA_BYTE);
        }
    }

    /**
     * A context of {@code contextSize} positions that decodes up to {@code batchSize} tokens per call on
     * {@code threads} threads, configured as {@link LlamaEngine} configures its own.
     */
    Context context(int contextSize, int batchSize, int threads) {
        return new Context(contextSize, batchSize, threads);
    }

    @Override
    public void close() {
        Llama.llama_model_free(model);
        arena.close();
    }

    /** A llama.cpp context on this model: one sequence, decoded batch after batch from position 0. */
    final class Context implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment context;
        private final int batchSize;
        private final MemorySegment batch;
        private final MemorySegment batchTokens;
        private final MemorySegment batchPositions;
        private final MemorySegment batchOutputs;
        private int position;
        private int lastBatch;

        private Context(int contextSize, int batchSize, int threads) {
            MemorySegment created = Llama.llama_init_from_model(model, LlamaEngine.contextParams(arena, contextSize, batchSize, threads));
            if (created.equals(MemorySegment.NULL)) {
                arena.close();
                throw new AssertionError("llama.cpp could not create a context of " + contextSize + " for " + name + ":\n" + log());
            }
            context = created;
            this.batchSize = Llama.llama_n_batch(context); // llama.cpp caps it at the context size
            batch = Llama.llama_batch_init(arena, this.batchSize, 0, 1);
            batchTokens = Llama.llama_batch.array(batch, "token", this.batchSize, JAVA_INT);
            batchPositions = Llama.llama_batch.array(batch, "pos", this.batchSize, JAVA_INT);
            batchOutputs = Llama.llama_batch.array(batch, "logits", this.batchSize, JAVA_BYTE);
            MemorySegment sequenceCounts = Llama.llama_batch.array(batch, "n_seq_id", this.batchSize, JAVA_INT);
            MemorySegment sequences = Llama.llama_batch.array(batch, "seq_id", this.batchSize, ADDRESS);
            for (int i = 0; i < this.batchSize; i++) {
                sequenceCounts.setAtIndex(JAVA_INT, i, 1);
                sequences.getAtIndex(ADDRESS, i).reinterpret(JAVA_INT.byteSize()).set(JAVA_INT, 0, 0);
            }
        }

        /** How many tokens one {@link #decode} call takes at most. */
        int batchSize() {
            return batchSize;
        }

        /** The number of tokens decoded since the start or the last {@link #clear}. */
        int position() {
            return position;
        }

        /**
         * Decodes {@code tokens} at the next positions, keeping the logits of every one of them if
         * {@code allLogits}, else of the last only.
         */
        void decode(int[] tokens, boolean allLogits) {
            if (tokens.length == 0 || tokens.length > batchSize) {
                throw new IllegalArgumentException("decode takes 1 to " + batchSize + " tokens, not " + tokens.length);
            }
            for (int i = 0; i < tokens.length; i++) {
                batchTokens.setAtIndex(JAVA_INT, i, tokens[i]);
                batchPositions.setAtIndex(JAVA_INT, i, position + i);
                batchOutputs.set(JAVA_BYTE, i, (byte) (allLogits || i == tokens.length - 1 ? 1 : 0));
            }
            Llama.llama_batch.n_tokens(batch, tokens.length);
            int status = Llama.llama_decode(context, batch);
            if (status != 0) {
                throw new AssertionError("llama_decode returned " + status + " for " + tokens.length + " tokens at position "
                        + position + " of " + name + ":\n" + log());
            }
            position += tokens.length;
            lastBatch = tokens.length;
        }

        /** The logits of token {@code i} of the last {@link #decode}; negative {@code i} counts from its end. */
        float[] logits(int i) {
            if (i >= lastBatch || i < -lastBatch) {
                throw new IllegalArgumentException("the last decode had " + lastBatch + " tokens, no token " + i);
            }
            MemorySegment logits = Llama.llama_get_logits_ith(context, i);
            if (logits.equals(MemorySegment.NULL)) {
                throw new AssertionError("llama.cpp kept no logits for token " + i + " of the last decode:\n" + log());
            }
            return logits.reinterpret(vocabularySize() * JAVA_FLOAT.byteSize()).toArray(JAVA_FLOAT);
        }

        /** Forgets every decoded token, to start again at position 0. */
        void clear() {
            Llama.llama_memory_clear(Llama.llama_get_memory(context), true);
            position = 0;
            lastBatch = 0;
        }

        @Override
        public void close() {
            Llama.llama_batch_free(batch);
            Llama.llama_free(context);
            arena.close();
        }
    }
}
