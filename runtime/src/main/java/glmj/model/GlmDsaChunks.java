package glmj.model;

import glmj.generate.ChunkLogits;
import glmj.generate.LayerByLayer;
import glmj.gguf.TensorInfo;
import glmj.gguf.TensorSource;

import java.util.List;

/**
 * glmj's engine running chunks for a quality run, each from an empty cache, in batches of up to the batch size; past
 * the last layer's attention only the rows whose logits are wanted go on, as llama.cpp's graph keeps them. Chunk after
 * chunk through the whole model, or, {@link LayerByLayer}, every chunk of a pass through a layer before the next
 * layer's weights are read: the hidden states (and the indexer's choices the next layers reuse) wait in a
 * {@link LayerState} file between layers, and each layer's tensors are loaded before it and released after it. The
 * same batches meet the same kernels either way, so both give the same logits, bit for bit.
 */
final class GlmDsaChunks implements ChunkLogits {
    private final GlmDsa model;
    private final TensorSource source;
    private final int chunkLength;
    private final int batchSize;
    private final LayerByLayer layered;
    private final byte[] modelFingerprint;
    private final KvCache cache;
    private final float[] x;
    /** The logits of a batch's wanted rows, sized by the most a batch can want. */
    private float[] logits = new float[0];

    /** Chunks of {@code chunkLength} in batches of {@code batchSize}; {@code layered} null runs them chunk after chunk. */
    GlmDsaChunks(GlmDsa model, TensorSource source, int chunkLength, int batchSize, LayerByLayer layered, byte[] modelFingerprint) {
        if (chunkLength < 2 || chunkLength > model.contextSize()) {
            throw new IllegalArgumentException("chunks of " + chunkLength + " tokens in a model opened for contexts of " + model.contextSize());
        }
        this.model = model;
        this.source = source;
        this.chunkLength = chunkLength;
        this.batchSize = Math.min(batchSize, chunkLength);
        this.layered = layered;
        this.modelFingerprint = modelFingerprint;
        this.cache = model.newCache(chunkLength);
        this.x = new float[this.batchSize * model.config().embeddingLength()];
        if (layered == null) {
            source.load(used(source, model.config()));
        }
    }

    @Override
    public int vocabularySize() {
        return model.config().vocabularySize();
    }

    @Override
    public int chunkLength() {
        return chunkLength;
    }

    @Override
    public int chunksPerPass() {
        return layered == null ? 1 : Integer.MAX_VALUE;
    }

    @Override
    public void evaluate(int[] tokens, int offset, int chunks, int firstOutput, Sink sink) {
        if (chunks < 1 || chunks > chunksPerPass() || firstOutput < 0 || firstOutput >= chunkLength
                || offset < 0 || offset + (long) chunks * chunkLength > tokens.length) {
            throw new IllegalArgumentException(chunks + " chunks of " + chunkLength + " from token " + offset + " of "
                    + tokens.length + ", logits from position " + firstOutput);
        }
        int wanted = Math.min(batchSize, chunkLength - firstOutput);
        if (logits.length < wanted * vocabularySize()) {
            logits = new float[wanted * vocabularySize()];
        }
        if (layered == null) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                wholeModel(tokens, offset + chunk * chunkLength, chunk, firstOutput, sink);
            }
        } else {
            layerByLayer(tokens, offset, chunks, firstOutput, sink);
        }
    }

    /** One chunk from token {@code start}, batch after batch through every layer and the output. */
    private void wholeModel(int[] tokens, int start, int chunk, int firstOutput, Sink sink) {
        cache.truncate(0);
        int last = model.config().layerCount() - 1;
        for (int from = 0; from < chunkLength; from += batchSize) {
            int count = Math.min(batchSize, chunkLength - from);
            int keep = Math.clamp(firstOutput - from, 0, count);
            model.embed(tokens, start + from, count, x);
            int rows = count;
            for (int il = 0; il <= last; il++) {
                rows = model.layer(il, cache, x, count, il == last ? keep : 0);
            }
            cache.advance(count);
            output(chunk, from + keep, rows, sink);
        }
    }

    /** The logits of the {@code rows} rows of {@link #x}, positions from {@code position} of chunk {@code chunk}, to the sink. */
    private void output(int chunk, int position, int rows, Sink sink) {
        if (rows > 0) {
            model.output(x, rows, logits);
            sink.accept(chunk, position, rows, logits, 0);
        }
    }

    /** The chunks from token {@code offset}, layer by layer, their states kept in the {@link LayerState} file. */
    private void layerByLayer(int[] tokens, int offset, int chunks, int firstOutput, Sink sink) {
        GlmDsaConfig c = model.config();
        int layers = c.layerCount();
        int stages = layers + 1;
        long selectionBytes = reusesSelection(c) ? model.selectionBytes(chunkLength) : 0;
        LayerState.Shape shape = new LayerState.Shape(chunkLength, c.embeddingLength(), layers, firstOutput, selectionBytes,
                modelFingerprint);
        try (LayerState state = LayerState.open(layered.stateFile(), layered.resume(), shape, tokens, offset, chunks)) {
            LayerByLayer.Progress progress = layered.progress();
            for (int il = state.layersDone(); il < layers; il++) {
                List<TensorInfo> tensors = stageTensors(il);
                source.load(tensors);
                for (int chunk = state.chunksDone(); chunk < state.chunks(); chunk++) {
                    progress.passed(il, stages, chunk, state.chunks());
                    layer(il, tokens, state, chunk);
                    state.passed(il, chunk);
                }
                progress.passed(il, stages, state.chunks(), state.chunks());
                source.release(tensors);
            }
            source.load(stageTensors(layers));
            int first = state.chunkOf(offset);
            int kept = chunkLength - firstOutput;
            for (int chunk = 0; chunk < chunks; chunk++) {
                progress.passed(layers, stages, first + chunk, state.chunks());
                for (int row = 0; row < kept; row += batchSize) {
                    int rows = Math.min(batchSize, kept - row);
                    state.read(layers, first + chunk, row, rows, x);
                    output(chunk, firstOutput + row, rows, sink);
                }
            }
            progress.passed(layers, stages, first + chunks, state.chunks());
            if (first + chunks == state.chunks()) {
                state.finished();
            }
        }
    }

    /** Chunk {@code chunk} of {@code state} through layer {@code il}, batch after batch, from an empty cache. */
    private void layer(int il, int[] tokens, LayerState state, int chunk) {
        GlmDsaConfig c = model.config();
        boolean last = il == c.layerCount() - 1;
        int firstOutput = state.shape().firstOutput();
        cache.truncate(0);
        int stored = 0;
        for (int from = 0; from < chunkLength; from += batchSize) {
            int count = Math.min(batchSize, chunkLength - from);
            if (il == 0) {
                model.embed(tokens, state.firstToken(chunk) + from, count, x);
            } else {
                state.read(il, chunk, from, count, x);
            }
            long selection = model.selectionBytes(from);
            if (!c.indexerFull()[il]) {
                model.loadSelection(count, state.selections(), state.selectionOffset(chunk) + selection);
            }
            int rows = model.layer(il, cache, x, count, last ? Math.clamp(firstOutput - from, 0, count) : 0);
            if (c.indexerFull()[il] && state.shape().selectionBytes() > 0) {
                model.saveSelection(count, state.selections(), state.selectionOffset(chunk) + selection);
            }
            cache.advance(count);
            state.write(il + 1, chunk, last ? stored : from, rows, x);
            stored += rows;
        }
    }

    /** The tensors stage {@code stage} reads: layer {@code stage}'s (and the embeddings for the first), or the output's. */
    private List<TensorInfo> stageTensors(int stage) {
        int layers = model.config().layerCount();
        String block = "blk." + stage + ".";
        return source.tensors().stream().filter(t -> stage < layers ? t.name().startsWith(block)
                || stage == 0 && t.name().equals("token_embd.weight")
                : t.name().startsWith("output") || t.name().equals("token_embd.weight") && source.findTensor("output.weight").isEmpty())
                .toList();
    }

    /** The tensors the model runs on: all but those of blocks past the trunk (the MTP layers). */
    static List<TensorInfo> used(TensorSource source, GlmDsaConfig c) {
        return source.tensors().stream().filter(t -> {
            String name = t.name();
            if (!name.startsWith("blk.")) {
                return true;
            }
            int end = name.indexOf('.', 4);
            return Integer.parseInt(name.substring(4, end)) < c.layerCount();
        }).toList();
    }

    /** Whether a layer reuses the choice of an earlier full indexer layer, which must then wait between layers too. */
    private static boolean reusesSelection(GlmDsaConfig c) {
        for (boolean full : c.indexerFull()) {
            if (!full) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        // the cache and buffers are freed with this object; the state file is closed after each pass
    }
}
