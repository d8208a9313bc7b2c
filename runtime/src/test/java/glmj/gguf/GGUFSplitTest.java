package glmj.gguf;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Random;

import static glmj.gguf.GGUFRoundTripTest.assertMessage;
import static org.junit.jupiter.api.Assertions.*;

class GGUFSplitTest {
    @TempDir
    Path dir;

    private static final String[] NAMES = {"token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_up.weight",
            "blk.1.attn_q.weight", "output.weight"};

    private GGUFWriter model() {
        Random random = new Random(3);
        GGUFWriter writer = new GGUFWriter()
                .putString("general.architecture", "glm-dsa")
                .putUInt32("general.alignment", 64)
                .putUInt32("glm-dsa.block_count", 2)
                .putArray("tokenizer.ggml.tokens", GGUFValueType.STRING, new String[]{"a", "b"});
        GGMLType[] types = {GGMLType.F16, GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.F32, GGMLType.Q6_K};
        for (int i = 0; i < NAMES.length; i++) {
            long[] shape = {types[i].blockSize * 2L, i + 1};
            writer.addTensor(NAMES[i], types[i], shape, GGUFRoundTripTest.randomData(types[i], shape, random));
        }
        return writer;
    }

    @Test
    void openingAnyShardGivesTheWholeModel() throws IOException {
        List<Path> shards = model().writeSplit(dir, "model", 2);
        assertEquals(List.of(dir.resolve("model-00001-of-00003.gguf"), dir.resolve("model-00002-of-00003.gguf"),
                dir.resolve("model-00003-of-00003.gguf")), shards);

        // shard 1 has all metadata then the split keys; the others only the split keys (and the alignment)
        for (int i = 0; i < 3; i++) {
            try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(shards.get(i))) {
                GGUFShard shard = GGUFShard.parse(shards.get(i), ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
                Metadata m = shard.metadata();
                List<String> expected = i == 0
                        ? List.of("general.architecture", "general.alignment", "glm-dsa.block_count", "tokenizer.ggml.tokens",
                                "split.no", "split.count", "split.tensors.count")
                        : List.of("general.alignment", "split.no", "split.count", "split.tensors.count");
                assertEquals(expected, List.copyOf(m.keys()));
                assertEquals(GGUFValueType.UINT16, m.type("split.no"));
                assertEquals(GGUFValueType.UINT16, m.type("split.count"));
                assertEquals(GGUFValueType.INT32, m.type("split.tensors.count"));
                assertEquals(i, m.getInt("split.no"));
                assertEquals(3, m.getInt("split.count"));
                assertEquals(5, m.getInt("split.tensors.count"));
                assertEquals(i < 2 ? 2 : 1, shard.tensors().size());
                assertEquals(64, shard.alignment());
            }
        }

        try (GGUFFile reference = GGUFFile.open(shards.getFirst())) {
            assertEquals(shards, reference.shards());
            assertEquals(List.of(NAMES), reference.tensors().stream().map(TensorInfo::name).toList());
            assertEquals(shards.get(1), reference.tensor("blk.0.ffn_up.weight").shard());
            assertEquals(shards.get(2), reference.tensor("output.weight").shard());
            for (Path any : shards) {
                try (GGUFFile gguf = GGUFFile.open(any)) {
                    assertEquals(List.copyOf(reference.metadata().keys()), List.copyOf(gguf.metadata().keys()));
                    for (String key : reference.metadata().keys()) {
                        assertTrue(java.util.Objects.deepEquals(reference.metadata().get(key), gguf.metadata().get(key)), key);
                    }
                    assertEquals(reference.tensors().size(), gguf.tensors().size());
                    for (int i = 0; i < NAMES.length; i++) {
                        TensorInfo a = reference.tensors().get(i);
                        TensorInfo b = gguf.tensors().get(i);
                        assertEquals(a.name(), b.name());
                        assertEquals(a.type(), b.type());
                        assertArrayEquals(a.shape(), b.shape());
                        assertEquals(a.shard(), b.shard());
                        assertEquals(a.fileOffset(), b.fileOffset());
                        assertEquals(-1, a.data().mismatch(b.data()));
                    }
                }
            }
        }
    }

    @Test
    void splitThenMergeThenResplitKeepsEveryByte() throws IOException {
        GGUFWriter original = model();
        Path single = dir.resolve("single.gguf");
        original.write(single);
        List<Path> shards = original.writeSplit(dir, "m", 3);
        Path merged = dir.resolve("merged.gguf");
        try (GGUFFile split = GGUFFile.open(shards.get(1))) {
            GGUFWriter.copyOf(split).write(merged);
        }
        assertEquals(-1, Files.mismatch(single, merged), "merging a split set gives back the unsplit file");

        Path again = Files.createDirectory(dir.resolve("again"));
        try (GGUFFile gguf = GGUFFile.open(merged)) {
            List<Path> one = GGUFWriter.copyOf(gguf).writeSplit(again, "m", 100);
            assertEquals(List.of(again.resolve("m-00001-of-00001.gguf")), one);
            try (GGUFFile reopened = GGUFFile.open(one.getFirst())) {
                assertEquals(1, reopened.metadata().getInt("split.count"));
                assertEquals(5, reopened.tensors().size());
                assertEquals(-1, gguf.tensor("output.weight").data().mismatch(reopened.tensor("output.weight").data()));
            }
        }
    }

    @Test
    void aMissingShardIsNamed() throws IOException {
        List<Path> shards = model().writeSplit(dir, "model", 2);
        Files.delete(shards.get(2));
        assertMessage(shards.get(2) + ": shard 3 of 3 is missing (the set was opened from model-00002-of-00003.gguf)",
                () -> GGUFFile.open(shards.get(1)));
    }

    /** Replaces a shard by one with the given split keys and one tensor. */
    private static void forgeShard(Path file, int splitNo, int splitCount, int tensorsCount, int tensors) throws IOException {
        GGUFWriter forged = new GGUFWriter()
                .put("split.no", GGUFValueType.UINT16, splitNo)
                .put("split.count", GGUFValueType.UINT16, splitCount)
                .put("split.tensors.count", GGUFValueType.INT32, tensorsCount);
        for (int i = 0; i < tensors; i++) {
            forged.addTensor("forged." + i, GGMLType.I8, new long[]{1}, MemorySegment.ofArray(new byte[1]));
        }
        forged.write(file);
    }

    @Test
    void shardsThatDisagreeAreRefused() throws IOException {
        List<Path> shards = model().writeSplit(dir, "model", 2);
        forgeShard(shards.get(1), 1, 4, 5, 2);
        assertMessage(shards.get(1) + ": split.count is 4 but the set has 3 shards", () -> GGUFFile.open(shards.getFirst()));
        forgeShard(shards.get(1), 2, 3, 5, 2);
        assertMessage(shards.get(1) + ": split.no is 2, expected 1 for shard 2 of 3", () -> GGUFFile.open(shards.getFirst()));
        forgeShard(shards.get(1), 1, 3, 5, 1);
        assertMessage(shards.getFirst() + ": split.tensors.count is 5 but the 3 shard(s) hold 4 tensors",
                () -> GGUFFile.open(shards.get(2)));
    }

    @Test
    void namesAndSplitKeysMustAgree() throws IOException {
        List<Path> shards = model().writeSplit(dir, "model", 2);
        Path renamed = Files.copy(shards.getFirst(), dir.resolve("renamed.gguf"));
        assertMessage(renamed + ": split.count is 3 but the file name does not end in -NNNNN-of-NNNNN.gguf,"
                + " so the other shards cannot be found", () -> GGUFFile.open(renamed));
        Path wrongCount = Files.copy(shards.getFirst(), dir.resolve("model-00001-of-00002.gguf"));
        assertMessage(wrongCount + ": split.count is 3 but the file name says there are 2 shards", () -> GGUFFile.open(wrongCount));

        Path other = Files.createDirectory(dir.resolve("plain"));
        Path unsplit = other.resolve("x-00002-of-00002.gguf");
        new GGUFWriter().putString("general.name", "x").write(unsplit);
        Files.copy(unsplit, other.resolve("x-00001-of-00002.gguf"), StandardCopyOption.REPLACE_EXISTING);
        assertMessage(unsplit + ": missing key 'split.count' though the file name says it is shard 2 of 2",
                () -> GGUFFile.open(unsplit));
    }

    @Test
    void everyShardsTensorDataIsCheckedWhicheverShardOpensTheSet() throws IOException {
        List<Path> shards = model().writeSplit(dir, "model", 2);
        // shard 2 holds blk.0.ffn_up.weight then blk.1.attn_q.weight; the second is moved onto the first
        RawGGUF.patchTensor(shards.get(1), NAMES[3], -1, 0);
        for (Path any : shards) {
            GGUFFormatException e = assertThrows(GGUFFormatException.class, () -> GGUFFile.open(any));
            assertEquals(shards.get(1), e.file());
            assertTrue(e.getMessage().contains("tensor '" + NAMES[3] + "' data (32 bytes at offset 0) overlaps tensor '"
                    + NAMES[2] + "'"), e.getMessage());
        }
    }
}
