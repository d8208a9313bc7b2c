package glmj.convert;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.Model;
import glmj.engine.ModelOptions;
import glmj.engine.Models;
import glmj.engine.PrefetchChoice;
import glmj.generate.ChunkLogits;
import glmj.generate.LayerByLayer;
import glmj.gguf.MappedMemory;
import glmj.hf.HfCheckpoint;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * glmj's engine run layer by layer ({@link LayerByLayer}) over several chunks gives the logits it gives chunk after
 * chunk, bit for bit: the same batches meet the same kernels, and what waits between layers (hidden states, the
 * indexer's choices for the layers that reuse them) is stored as it was. On the tiny quant mix (with glmj's panels, a
 * layer that reuses an earlier layer's keys) and on the tiny FP8 checkpoint, in chunks of three batches. A run stopped
 * within a layer resumes to the same logits; and with each layer's weights released from memory once done, a run reads
 * each weight from disk once, not once per chunk.
 */
class LayerByLayerTest {
    private static final int CHUNK = 48;
    private static final int BATCH = 16;
    private static final int FIRST_OUTPUT = 24;
    private static final int CHUNKS = 3;

    @TempDir
    Path scratch;

    private static Model open(Path model, boolean exact) throws IOException {
        return Models.open(model, new ModelOptions(CHUNK, BATCH, 2, EngineChoice.java, KernelChoice.vector, exact, PrefetchChoice.auto), notice -> { });
    }

    private static int[] tokens(int vocabulary) {
        SplittableRandom random = new SplittableRandom(13);
        return random.ints(CHUNK * CHUNKS, 0, Math.min(vocabulary, 150_000)).toArray();
    }

    /** Each chunk's logits from {@link #FIRST_OUTPUT} on, row after row. */
    private static float[][] logits(ChunkLogits engine, int[] tokens) {
        int vocabulary = engine.vocabularySize();
        float[][] out = new float[CHUNKS][(CHUNK - FIRST_OUTPUT) * vocabulary];
        int[] next = new int[CHUNKS];
        for (int first = 0; first < CHUNKS; first += engine.chunksPerPass()) {
            int pass = first;
            int chunks = Math.min(engine.chunksPerPass(), CHUNKS - first);
            engine.evaluate(tokens, first * CHUNK, chunks, FIRST_OUTPUT, (chunk, position, count, logits, offset) -> {
                assertEquals(FIRST_OUTPUT + next[pass + chunk], position, "positions in order");
                System.arraycopy(logits, offset, out[pass + chunk], (position - FIRST_OUTPUT) * vocabulary, count * vocabulary);
                next[pass + chunk] += count;
            });
        }
        for (int chunk = 0; chunk < CHUNKS; chunk++) {
            assertEquals(CHUNK - FIRST_OUTPUT, next[chunk], "every wanted position of chunk " + chunk);
        }
        return out;
    }

    private static void assertSameBits(float[][] expected, float[][] actual, String what) {
        for (int chunk = 0; chunk < CHUNKS; chunk++) {
            for (int i = 0; i < expected[chunk].length; i++) {
                if (Float.floatToRawIntBits(expected[chunk][i]) != Float.floatToRawIntBits(actual[chunk][i])) {
                    throw new AssertionError(what + ": chunk " + chunk + " logit " + i + ": " + expected[chunk][i] + " chunk after chunk, "
                            + actual[chunk][i] + " layer by layer");
                }
            }
        }
    }

    private void assertLayerByLayerIsWholeModel(Path model, boolean exact) throws IOException {
        Path state = scratch.resolve("run.layers");
        try (Model loaded = open(model, exact)) {
            int[] tokens = tokens(loaded.tokenizer().vocabularySize());
            float[][] whole;
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK)) {
                whole = logits(engine, tokens);
            }
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK, new LayerByLayer(state, false, LayerByLayer.Progress.NONE))) {
                assertSameBits(whole, logits(engine, tokens), model.getFileName().toString());
            }
            assertFalse(Files.exists(state), "a finished run deletes its state");
        }
    }

    @Test
    void theQuantMixLayerByLayerIsBitForBitItsRunChunkAfterChunk() throws IOException {
        assertLayerByLayerIsWholeModel(TestModels.tinyQuantMix(), false);
    }

    @Test
    void theCheckpointLayerByLayerIsBitForBitItsRunChunkAfterChunk() throws IOException {
        assertLayerByLayerIsWholeModel(TestModels.tinyCheckpoint(), true);
    }

    /** Stops a run when it reaches a layer and chunk. */
    private record StopAt(int stage, int chunk) implements LayerByLayer.Progress {
        @Override
        public void passed(int stage, int stages, int chunk, int chunks) {
            if (stage == this.stage && chunk == this.chunk) {
                throw new IllegalStateException("stopped");
            }
        }
    }

    @Test
    void aRunStoppedWithinALayerResumesToTheSameLogits() throws IOException {
        Path state = scratch.resolve("stopped.layers");
        try (Model loaded = open(TestModels.tinyQuantMix(), false)) {
            int[] tokens = tokens(loaded.tokenizer().vocabularySize());
            float[][] whole;
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK)) {
                whole = logits(engine, tokens);
            }
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK, new LayerByLayer(state, false, new StopAt(2, 1)))) {
                assertThrows(IllegalStateException.class, () -> logits(engine, tokens));
            }
            assertTrue(Files.exists(state), "a stopped run keeps its state");
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK, new LayerByLayer(state, true, new StopAt(0, 0)))) {
                assertSameBits(whole, logits(engine, tokens), "resumed in layer 2 (it did not start over: it would have stopped)");
            }
            assertFalse(Files.exists(state));
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK, new LayerByLayer(state, false, new StopAt(1, 0)))) {
                assertThrows(IllegalStateException.class, () -> logits(engine, tokens));
            }
            int[] other = tokens.clone();
            other[5]++;
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK, new LayerByLayer(state, true, LayerByLayer.Progress.NONE))) {
                IllegalStateException refused = assertThrows(IllegalStateException.class, () -> logits(engine, other));
                assertTrue(refused.getMessage().contains("it is of another text"), refused.getMessage());
            }
        }
    }

    @Test
    void aRunReleasingEachLayerReadsEachWeightFromDiskOnce() throws IOException {
        Assumptions.assumeTrue(Files.isReadable(PROC_IO), "no " + PROC_IO + " here to count the bytes read from disk");
        Path copy = Files.createDirectory(scratch.resolve("checkpoint"));
        long used = 0;
        long embeddings;
        try (HfCheckpoint checkpoint = HfCheckpoint.open(TestModels.tinyCheckpoint())) {
            embeddings = checkpoint.findWeight("model.embed_tokens.weight").orElseThrow().storedBytes();
            String mtp = "model.layers." + checkpoint.config().get("num_hidden_layers").asInt() + ".";
            for (var weight : checkpoint.weights().values()) {
                used += weight.name().startsWith(mtp) || weight.name().equals("model.embed_tokens.weight") ? 0 : weight.storedBytes();
            }
        }
        try (Stream<Path> files = Files.list(TestModels.tinyCheckpoint())) {
            for (Path file : files.toList()) {
                Files.copy(file, copy.resolve(file.getFileName()));
                evict(copy.resolve(file.getFileName()));
            }
        }
        int chunks = 4;
        long read;
        try (Model loaded = open(copy, true)) {
            int[] tokens = new SplittableRandom(7).ints(CHUNK * chunks, 0, 150_000).toArray();
            long before = readBytes();
            try (ChunkLogits engine = loaded.chunkLogits(CHUNK, new LayerByLayer(scratch.resolve("read.layers"), false,
                    LayerByLayer.Progress.NONE))) {
                engine.evaluate(tokens, 0, chunks, FIRST_OUTPUT, (chunk, position, count, logits, offset) -> { });
            }
            read = readBytes() - before;
        }
        Assumptions.assumeTrue(read > 0, "reads from this file system are not counted (a RAM disk?)");
        System.out.printf("layer by layer over %d chunks: %.1f MB read from disk; the weights used %.1f MB, the embeddings %.1f MB%n",
                chunks, read / 1e6, used / 1e6, embeddings / 1e6);
        assertTrue(read >= 0.9 * used, read + " bytes read, less than the " + used + " of the weights used");
        assertTrue(read <= 1.1 * (used + embeddings) + (8 << 20), read + " bytes read: more than the weights once ("
                + used + " and the embeddings' " + embeddings + ")");
    }

    private static final Path PROC_IO = Path.of("/proc/self/io");

    /** Bytes this process had read from storage ({@code read_bytes} of /proc/self/io). */
    private static long readBytes() throws IOException {
        for (String line : Files.readAllLines(PROC_IO)) {
            if (line.startsWith("read_bytes:")) {
                return Long.parseLong(line.substring("read_bytes:".length()).strip());
            }
        }
        throw new IOException(PROC_IO + " has no read_bytes");
    }

    /** Puts {@code file} on disk and out of the page cache: its pages touched, then released. */
    private static void evict(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            channel.force(true);
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            for (long page = 0; page < mapped.byteSize(); page += 4096) {
                mapped.get(java.lang.foreign.ValueLayout.JAVA_BYTE, page);
            }
            MappedMemory.release(mapped);
        }
    }
}
