package glmj.quality;

import glmj.tensor.blocks.LittleEndian;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KldBaseFileTest {
    private static final int VOCAB = 5;
    private static final int CONTEXT = 8;
    private static final int CHUNKS = 3;

    @TempDir
    Path scratch;

    @Test
    void aRecordStoresLogProbabilitiesWithinHalfAStep() {
        float[] logits = {2.5f, -1f, 7f, -30f, 6.999f, 0f, 3f};
        KldLayout layout = new KldLayout(CONTEXT, logits.length, 1);
        MemorySegment record = MemorySegment.ofArray(new byte[(int) layout.recordBytes()]);
        float nll = LogProbs.encode(logits, 0, logits.length, 4, record);
        double logSum = 0;
        for (float logit : logits) {
            logSum += Math.exp(logit - 7f);
        }
        logSum = 7 + Math.log(logSum);
        assertEquals(logSum - 6.999, nll, 1e-5);
        float scale = record.get(LittleEndian.FLOAT, 0);
        assertEquals(16f / 65535, scale, 1e-9, "the range is the top 16 nats");
        for (int i = 0; i < logits.length; i++) {
            double exact = logits[i] - logSum;
            if (logits[i] > 7f - 16f) {
                assertEquals(exact, LogProbs.logProb(record, i), scale / 2 + 1e-5, "token " + i);
            } else {
                assertEquals(7f - 16f - logSum, LogProbs.logProb(record, i), 1e-5, "below the range: its floor");
            }
        }
        assertEquals(65535, LittleEndian.u16(record, LogProbs.valueOffset(2)), "the top token");
        assertEquals(0, LittleEndian.u16(record, LogProbs.valueOffset(logits.length)), "padding to even");
    }

    /**
     * Every stored q is perplexity.cpp's {@code logits[i] > min_logit ? nearest_int(inv_scale * (logits[i] - min_logit))
     * : 0}, written out here as it is there, for rows of several lengths read from an offset, with logits at and just
     * above the floor and signed zeros.
     */
    @Test
    void everyValueIsRoundedAsLlamaPerplexityRoundsIt() {
        SplittableRandom random = new SplittableRandom(7);
        int offset = 3;
        for (int n : new int[]{1, 2, 7, 15, 16, 17, 31, 33, 47, 64, 1001, 4099}) {
            float[] logits = new float[offset + n];
            for (int i = 0; i < n; i++) {
                logits[offset + i] = (float) (random.nextGaussian() * 6);
            }
            float top = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                top = Math.max(top, logits[offset + i]);
            }
            float floor = top - LogProbs.RANGE;
            for (int i = 0; i < n; i += 5) {
                logits[offset + i] = switch (random.nextInt(4)) {
                    case 0 -> floor;
                    case 1 -> Math.nextUp(floor);
                    case 2 -> -0.0f;
                    default -> 0.0f;
                };
            }
            MemorySegment record = MemorySegment.ofArray(new byte[(int) new KldLayout(CONTEXT, n, 1).recordBytes()]);
            record.fill((byte) 0x5A);
            LogProbs.encode(logits, offset, n, 0, record);
            float max = logits[offset];
            float min = logits[offset];
            for (int i = 1; i < n; i++) {
                max = Math.max(max, logits[offset + i]);
                min = Math.min(min, logits[offset + i]);
            }
            min = Math.max(min, max - LogProbs.RANGE);
            float inverse = 1 / ((max - min) / 65535f);
            for (int i = 0; i < n; i++) {
                float logit = logits[offset + i];
                int expected = 0;
                if (logit > min) {
                    int bits = Float.floatToRawIntBits(inverse * (logit - min) + 12582912.f);
                    expected = ((bits & 0x007fffff) - 0x00400000) & 0xFFFF;
                }
                assertEquals(expected, LittleEndian.u16(record, LogProbs.valueOffset(i)), "n " + n + ", token " + i + ", logit " + logit);
            }
        }
    }

    @Test
    void equalLogitsStoreAZeroScale() {
        float[] logits = new float[4];
        Arrays.fill(logits, 1.5f);
        MemorySegment record = MemorySegment.ofArray(new byte[(int) new KldLayout(CONTEXT, 4, 1).recordBytes()]);
        record.fill((byte) 7);
        LogProbs.encode(logits, 0, 4, 0, record);
        for (int i = 0; i < 4; i++) {
            assertEquals(-Math.log(4), LogProbs.logProb(record, i), 1e-6);
        }
    }

    @Test
    void theHeaderIsLlamaPerplexitys() throws IOException {
        int[] tokens = tokens(1);
        Path file = reference(scratch.resolve("base.kld"), tokens, 1);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        bytes.get(magic);
        assertEquals("_logits_", new String(magic, StandardCharsets.US_ASCII));
        assertEquals(CONTEXT, bytes.getInt());
        assertEquals(VOCAB, bytes.getInt());
        assertEquals(CHUNKS, bytes.getInt());
        for (int token : tokens) {
            assertEquals(token, bytes.getInt());
        }
        KldLayout layout = new KldLayout(CONTEXT, VOCAB, CHUNKS);
        assertEquals(layout.fileBytes(), Files.size(file));
        assertEquals(CONTEXT - 1 - CONTEXT / 2, layout.scoredPerChunk());
        assertEquals(2 * 3 + 4, layout.recordShorts(), "5 tokens padded to 6, and the two floats");
        try (KldBaseReader reader = KldBaseReader.open(file)) {
            assertEquals(layout, reader.layout());
            assertArrayEquals(tokens, reader.tokens());
        }
    }

    @Test
    void aRunCutAtAnyByteResumesToTheSameFile() throws IOException {
        int[] tokens = tokens(2);
        Path whole = reference(scratch.resolve("whole.kld"), tokens, 2);
        byte[] expected = Files.readAllBytes(whole);
        Path target = scratch.resolve("resumed.kld");
        Path partial = KldBaseWriter.partialOf(target);
        for (int cut = 0; cut < expected.length; cut++) {
            Files.write(partial, Arrays.copyOf(expected, cut));
            Files.deleteIfExists(target);
            KldLayout layout = new KldLayout(CONTEXT, VOCAB, CHUNKS);
            try (KldBaseWriter writer = KldBaseWriter.resume(target, layout, tokens)) {
                assertFalse(Files.exists(target), "no file under the target's name before the run is complete");
                assertEquals(cut < layout.headerBytes() ? 0 : (cut - layout.headerBytes()) / layout.chunkBytes(), writer.chunksBefore());
                ReferenceRun.run(new FakeChunkLogits(VOCAB, CONTEXT, 2, 0), writer, tokens, tokens, 2, Progress.NONE);
            }
            assertArrayEquals(expected, Files.readAllBytes(target), "cut at byte " + cut);
            assertFalse(Files.exists(partial));
        }
    }

    @Test
    void aFullDiskIsReportedWithTheFileBeingWritten() throws IOException {
        Path full = Path.of("/dev/full");
        Assumptions.assumeTrue(Files.exists(full), "Linux's /dev/full, whose writes fail with ENOSPC");
        Path target = scratch.resolve("full.kld");
        Path partial = Files.createSymbolicLink(KldBaseWriter.partialOf(target), full);
        IOException refused = assertThrows(IOException.class,
                () -> KldBaseWriter.create(target, new KldLayout(CONTEXT, VOCAB, CHUNKS), tokens(5)).close());
        assertTrue(refused.getMessage().startsWith(partial + ": "), refused.getMessage());
        assertFalse(Files.exists(target));
        Files.delete(partial);
    }

    @Test
    void aCutFileIsRefusedByTheReader() throws IOException {
        Path whole = reference(scratch.resolve("whole.kld"), tokens(3), 1);
        byte[] bytes = Files.readAllBytes(whole);
        KldLayout layout = new KldLayout(CONTEXT, VOCAB, CHUNKS);
        for (long cut : new long[] {0, 5, 15, layout.headerBytes() - 1, layout.headerBytes(), bytes.length - 1}) {
            Path cutFile = Files.write(scratch.resolve("cut.kld"), Arrays.copyOf(bytes, (int) cut));
            IOException refused = assertThrows(IOException.class, () -> KldBaseReader.open(cutFile).close());
            assertTrue(refused.getMessage().startsWith(cutFile.toString()), refused.getMessage());
        }
        Path longer = Files.write(scratch.resolve("long.kld"), Arrays.copyOf(bytes, bytes.length + 1));
        assertThrows(IOException.class, () -> KldBaseReader.open(longer).close());
    }

    @Test
    void resumeRefusesAPartialFileOfAnotherRun() throws IOException {
        int[] tokens = tokens(4);
        Path target = scratch.resolve("base.kld");
        KldLayout layout = new KldLayout(CONTEXT, VOCAB, CHUNKS);
        KldBaseWriter.create(target, layout, tokens).close();
        int[] other = tokens.clone();
        other[5] = (other[5] + 1) % VOCAB;
        IOException refused = assertThrows(IOException.class, () -> KldBaseWriter.resume(target, layout, other));
        assertTrue(refused.getMessage().contains("another run"), refused.getMessage());
    }

    @Test
    void everyLayoutGivesTheSameRecords() throws IOException {
        int[] tokens = tokens(5);
        byte[] onePerPass = Files.readAllBytes(reference(scratch.resolve("a.kld"), tokens, 1));
        byte[] threePerPass = Files.readAllBytes(reference(scratch.resolve("b.kld"), tokens, 3));
        assertArrayEquals(onePerPass, threePerPass);
    }

    private static int[] tokens(long seed) {
        return new SplittableRandom(seed).ints(CONTEXT * CHUNKS, 0, VOCAB).toArray();
    }

    private static Path reference(Path target, int[] tokens, int chunksPerPass) throws IOException {
        try (KldBaseWriter writer = KldBaseWriter.create(target, new KldLayout(CONTEXT, VOCAB, CHUNKS), tokens)) {
            ReferenceRun.run(new FakeChunkLogits(VOCAB, CONTEXT, chunksPerPass, 0), writer, tokens, tokens, 2, Progress.NONE);
        }
        return target;
    }
}
