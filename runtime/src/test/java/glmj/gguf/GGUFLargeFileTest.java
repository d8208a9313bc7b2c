package glmj.gguf;

import glmj.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A sparse file of a little over 2 GiB: offsets, sizes and views past 2^31 are longs all the way. */
class GGUFLargeFileTest {
    private static final long BIG = (1L << 31) + 32;

    @TempDir
    Path dir;

    @Test
    void tensorDataPastTwoGibibytesIsRead() throws IOException {
        byte[] header = RawGGUF.header(3, 2, 1)
                .str("general.name").u32(GGUFValueType.STRING.id).str("sparse")
                .tensor("big", new long[]{BIG}, GGMLType.I8.id, 0)
                .tensor("tail", new long[]{4, 2}, GGMLType.F32.id, BIG)
                .data(32, 0)
                .bytes();
        long dataOffset = header.length;
        long tailOffset = dataOffset + BIG;
        Path file = dir.resolve("sparse.gguf");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(header);
            raf.setLength(tailOffset + 32);
            // an int straddling byte 2^31 of the big tensor, and the tail tensor's eight floats
            raf.seek(dataOffset + (1L << 31) - 2);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x12345678).array());
            ByteBuffer tail = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 8; i++) {
                tail.putFloat(i + 0.25f);
            }
            raf.seek(tailOffset);
            raf.write(tail.array());
        }
        assertTrue(Files.size(file) > (1L << 31));

        try (GGUFFile gguf = GGUFFile.open(file)) {
            assertEquals("sparse", gguf.metadata().getString("general.name"));
            TensorInfo big = gguf.tensor("big");
            assertEquals(BIG, big.byteSize());
            assertEquals(BIG, big.data().byteSize());
            assertEquals(BIG, big.rowLength());
            assertEquals(dataOffset, big.fileOffset());
            assertEquals(0, big.data().get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0x12345678, big.data().get(SegmentReader.I32, (1L << 31) - 2));
            assertEquals(0, big.data().get(ValueLayout.JAVA_BYTE, BIG - 1));

            TensorInfo tail = gguf.tensor("tail");
            assertEquals(tailOffset, tail.fileOffset());
            assertTrue(tail.fileOffset() > Integer.MAX_VALUE);
            assertEquals(4, tail.rowLength());
            assertEquals(2, tail.rowCount());
            for (int i = 0; i < 8; i++) {
                assertEquals(i + 0.25f, tail.data().getAtIndex(SegmentReader.F32, i));
            }
            assertEquals(BIG + 32, gguf.totalTensorBytes());
        }
    }
}
