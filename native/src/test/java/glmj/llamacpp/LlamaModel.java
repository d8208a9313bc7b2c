package glmj.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * A model loaded by llama.cpp, for the tests that compare glmj with it: vocabulary, tokenizer and, through
 * {@link Context}, decoding with the logits of any position. Anything llama.cpp refuses fails the test with an
 * {@link AssertionError} that carries llama.cpp's log since the model was loaded.
 */
final class LlamaModel implements AutoCloseable {
    /** ggml_type values of the tensors {@link Context#captured} reads. */
    private static final int GGML_TYPE_F32 = 0;
    private static final int GGML_TYPE_I32 = 26;

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
        MemorySegment params = LlamaEngine.modelParams(arena, true);
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
        return new Context(contextSize, batchSize, threads, null);
    }

    /**
     * As {@link #context(int, int, int)}, and every {@link Context#decode} keeps a copy of each graph tensor whose name
     * {@code capture} accepts, read through llama.cpp's eval callback ({@code cb_eval}) as the graph computes it; see
     * {@link Context#captured}. Names are those the model's graph gives with {@code cb(tensor, name, il)}: the name,
     * then {@code -il} for a layer's tensors ({@code l_out-3}: the residual stream leaving layer 3), bare for the rest
     * ({@code embd}, {@code result_norm}, {@code result_output}).
     */
    Context context(int contextSize, int batchSize, int threads, Predicate<String> capture) {
        return new Context(contextSize, batchSize, threads, capture);
    }

    /**
     * A graph tensor as llama.cpp computed it: its shape ({@code ne[0]} varies fastest) and its values in that order,
     * f32 as they are, i32 converted to float.
     */
    record Tensor(String name, long[] ne, float[] values) {
        /** Elements in a row ({@code ne[0]}). */
        int rowLength() {
            return Math.toIntExact(ne[0]);
        }

        /** Rows: the product of {@code ne[1..3]}. */
        int rows() {
            return Math.toIntExact(ne[1] * ne[2] * ne[3]);
        }

        /** A copy of row {@code row}. */
        float[] row(int row) {
            return Arrays.copyOfRange(values, row * rowLength(), (row + 1) * rowLength());
        }
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
        /** Which tensors the eval callback keeps; null when no callback is set. */
        private final Predicate<String> capture;
        private final Map<String, Tensor> captured = new LinkedHashMap<>();
        /** The same tensors in the order computed, every one of a name the graph gives to several. */
        private final List<Tensor> capturedInOrder = new ArrayList<>();
        /** What went wrong inside the eval callback, which must not throw into ggml. */
        private Throwable callbackFailure;

        private Context(int contextSize, int batchSize, int threads, Predicate<String> capture) {
            this.capture = capture;
            MemorySegment params = LlamaEngine.contextParams(arena, contextSize, batchSize, threads);
            if (capture != null) {
                Llama.llama_context_params.cb_eval(params, Ggml.ggml_backend_sched_eval_callback.allocate(this::observe, arena), MemorySegment.NULL);
            }
            MemorySegment created = Llama.llama_init_from_model(model, params);
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
            captured.clear();
            capturedInOrder.clear();
            callbackFailure = null;
            int status = Llama.llama_decode(context, batch);
            if (callbackFailure != null) {
                throw new AssertionError("reading llama.cpp's tensors in decode at position " + position + " failed", callbackFailure);
            }
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

        /**
         * The tensors of the last {@link #decode} that the context's capture filter accepted, by name; where the graph
         * gives one name to several tensors, the last computed. Empty for a context made without a filter.
         */
        Map<String, Tensor> captured() {
            return Collections.unmodifiableMap(captured);
        }

        /**
         * Every tensor of the last {@link #decode} that the capture filter accepted, in the order the graph computed
         * them, including those that share a name (such as the unnamed flash-attention result's {@code " (permuted)"}
         * view in every layer).
         */
        List<Tensor> capturedInOrder() {
            return Collections.unmodifiableList(capturedInOrder);
        }

        /** The captured tensor {@code name} of the last decode; fails if the graph computed none of that name. */
        /** Whether the last {@link #decode} computed a tensor {@code name} that the capture accepts. */
        boolean has(String name) {
            return captured.containsKey(name);
        }

        Tensor captured(String name) {
            Tensor tensor = captured.get(name);
            if (tensor == null) {
                throw new AssertionError("llama.cpp computed no tensor " + name + " in the last decode; it computed " + captured.keySet());
            }
            return tensor;
        }

        /**
         * The eval callback: asked ({@code ask}) whether a node is wanted, then handed each wanted node once computed.
         * Exceptions are kept for {@link #decode} to throw, and cancel the rest of the graph.
         */
        private boolean observe(MemorySegment address, boolean ask, MemorySegment userData) {
            try {
                MemorySegment tensor = Ggml.ggml_tensor.reinterpret(address);
                String tensorName = Ggml.ggml_tensor.name(tensor);
                if (!capture.test(tensorName)) {
                    return !ask; // not wanted; a node handed over unasked-for is not a reason to cancel
                }
                if (!ask) {
                    Tensor read = read(tensorName, tensor);
                    captured.put(tensorName, read);
                    capturedInOrder.add(read);
                }
                return true;
            } catch (Throwable e) {
                callbackFailure = e;
                return false;
            }
        }

        /** Copies an f32 or i32 tensor in host memory, following its strides. */
        private static Tensor read(String tensorName, MemorySegment tensor) {
            int type = Ggml.ggml_tensor.type(tensor);
            if (type != GGML_TYPE_F32 && type != GGML_TYPE_I32) {
                throw new IllegalStateException(tensorName + " has ggml type " + type + "; only f32 and i32 tensors are read");
            }
            long[] ne = new long[4];
            long[] nb = new long[4];
            long extent = 4;
            for (int d = 0; d < 4; d++) {
                ne[d] = Ggml.ggml_tensor.ne(tensor, d);
                nb[d] = Ggml.ggml_tensor.nb(tensor, d);
                extent += (ne[d] - 1) * nb[d];
            }
            MemorySegment data = Ggml.ggml_tensor.data(tensor).reinterpret(extent);
            float[] values = new float[Math.toIntExact(ne[0] * ne[1] * ne[2] * ne[3])];
            int i = 0;
            for (long i3 = 0; i3 < ne[3]; i3++) {
                for (long i2 = 0; i2 < ne[2]; i2++) {
                    for (long i1 = 0; i1 < ne[1]; i1++) {
                        long row = i3 * nb[3] + i2 * nb[2] + i1 * nb[1];
                        for (long i0 = 0; i0 < ne[0]; i0++) {
                            long at = row + i0 * nb[0];
                            values[i++] = type == GGML_TYPE_F32 ? data.get(JAVA_FLOAT_UNALIGNED, at) : data.get(JAVA_INT_UNALIGNED, at);
                        }
                    }
                }
            }
            return new Tensor(tensorName, ne, values);
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
