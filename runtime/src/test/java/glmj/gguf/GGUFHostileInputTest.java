package glmj.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Each malformed header is refused with a one-line message naming the file, the problem and its byte. */
class GGUFHostileInputTest {
    /** Bytes of magic, version and the two counts. */
    private static final int AFTER_COUNTS = 24;

    @TempDir
    Path dir;

    private String refusal(RawGGUF raw) throws IOException {
        Path file = raw.writeTo(dir.resolve("hostile.gguf"));
        GGUFFormatException e = assertThrows(GGUFFormatException.class, () -> GGUFFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(file, e.file());
        return e.getMessage().substring(file.toString().length() + 2);
    }

    @Test
    void badMagicAndVersions() throws IOException {
        RawGGUF notGguf = RawGGUF.header(3, 0, 0);
        byte[] bytes = notGguf.bytes();
        bytes[0] = 'X';
        Path file = java.nio.file.Files.write(dir.resolve("x.gguf"), bytes);
        GGUFRoundTripTest.assertMessage(file + ": not a GGUF file (the magic is not 'GGUF') (at byte 0)", () -> GGUFFile.open(file));
        assertEquals("unsupported GGUF version 4 (supported: 2 and 3) (at byte 4)", refusal(RawGGUF.header(4, 0, 0)));
        assertEquals("unsupported GGUF version 0 (supported: 2 and 3) (at byte 4)", refusal(RawGGUF.header(0, 0, 0)));
        assertEquals("truncated: magic needs 1 bytes, 0 remain (at byte 0)", refusal(new RawGGUF()));
        assertEquals("truncated: key-value count needs 8 bytes, 4 remain (at byte 16)", refusalOfPrefix(20));
    }

    private String refusalOfPrefix(int length) throws IOException {
        byte[] full = RawGGUF.header(3, 0, 0).bytes();
        Path file = java.nio.file.Files.write(dir.resolve("prefix.gguf"), java.util.Arrays.copyOf(full, length));
        return assertThrows(GGUFFormatException.class, () -> GGUFFile.open(file)).getMessage()
                .substring(file.toString().length() + 2);
    }

    @Test
    void countsAndLengthsBeyondTheFileAreRefusedBeforeAllocating() throws IOException {
        assertEquals("key-value count 1152921504606846976 cannot fit in the 0 bytes left in the file (at byte 16)",
                refusal(RawGGUF.header(3, 0, 1L << 60)));
        assertEquals("key-value count 18446744073709551615 cannot fit in the 0 bytes left in the file (at byte 16)",
                refusal(RawGGUF.header(3, 0, -1)));
        assertEquals("tensor count 1152921504606846976 cannot fit in the 0 bytes left in the file (at byte 8)",
                refusal(RawGGUF.header(3, 1L << 60, 0)));
        assertEquals("key length 9223372036854775807 exceeds the 8 bytes left in the file (at byte 24)",
                refusal(RawGGUF.header(3, 0, 1).u64(Long.MAX_VALUE).u64(0)));
        assertEquals("key length 18446744073709551615 exceeds the 8 bytes left in the file (at byte 24)",
                refusal(RawGGUF.header(3, 0, 1).u64(-1).u64(0)));
        assertEquals("array length of key 'k' 1099511627776 cannot fit in the 0 bytes left in the file (at byte 41)",
                refusal(RawGGUF.header(3, 0, 1).str("k").u32(9).u32(4).u64(1L << 40)));
        assertEquals("array length of key 'k' 3 cannot fit in the 10 bytes left in the file (at byte 41)",
                refusal(RawGGUF.header(3, 0, 1).str("k").u32(9).u32(8).u64(3).str("ab")));
        assertEquals("value of k length 100 exceeds the 3 bytes left in the file (at byte 37)",
                refusal(RawGGUF.header(3, 0, 1).str("k").u32(8).u64(100).u8(1).u8(2).u8(3)));
    }

    @Test
    void keysAndValueTypes() throws IOException {
        assertEquals("key 'k' has unknown value type id 99 (at byte 33)", refusal(RawGGUF.header(3, 0, 1).str("k").u32(99).u64(0)));
        assertEquals("key 'k' has unknown value type id -1 (at byte 37)", refusal(RawGGUF.header(3, 0, 1).str("k").u32(9).u32(-1)));
        assertEquals("key 'k' is an array of arrays, which GGUF readers do not support (at byte 41)",
                refusal(RawGGUF.header(3, 0, 1).str("k").u32(9).u32(9).u64(0)));
        assertEquals("empty key (at byte 24)", refusal(RawGGUF.header(3, 0, 1).str("").u32(0).u8(0).u8(0)));
        assertEquals("duplicate key 'k' (at byte 41)", refusal(RawGGUF.header(3, 0, 2).kvU32("k", 1).kvU32("k", 2)));
        assertEquals("key 'a\\x0ab' has unknown value type id 77 (at byte 35)",
                refusal(RawGGUF.header(3, 0, 1).str("a\nb").u32(77)), "control characters stay escaped on one line");
        assertEquals("key 'general.alignment' is 48, which is not a power of two (at byte 57)",
                refusal(RawGGUF.header(3, 0, 1).kvU32("general.alignment", 48)));
        assertEquals("key 'general.alignment' is i32, expected u32 (at byte 57)",
                refusal(RawGGUF.header(3, 0, 1).str("general.alignment").u32(5).u32(64)));
    }

    private static final long[] ROW = {32};

    @Test
    void tensorInfos() throws IOException {
        assertEquals("tensor 'w' has unknown ggml type id 4 (at byte 45)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", ROW, 4, 0).data(32, 128)));
        assertEquals("tensor 'w' has unknown ggml type id 43 (at byte 45)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", ROW, 43, 0).data(32, 128)));
        assertEquals("tensor 'w' has 0 dimensions, expected 1 to 4 (at byte 33)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", new long[0], 0, 0).data(32, 128)));
        assertEquals("tensor 'w' has 5 dimensions, expected 1 to 4 (at byte 33)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", new long[]{1, 1, 1, 1, 1}, 0, 0).data(32, 128)));
        assertEquals("tensor 'w' dimension 1 is negative: -2 (at byte 45)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", new long[]{1, -2}, 0, 0).data(32, 128)));
        assertEquals("tensor 'w' has more than 2^63 elements (at byte 45)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", new long[]{1L << 32, 1L << 32}, 0, 0).data(32, 128)));
        assertEquals("tensor 'w' is larger than 2^63 bytes (at byte 45)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", new long[]{1L << 62}, 0, 0).data(32, 128)));
        assertEquals("tensor 'w' rows of 33 q8_0 weights are not a whole number of 32-weight blocks (at byte 45)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", new long[]{33}, 8, 0).data(32, 128)));
        assertEquals("duplicate tensor name 'w' (at byte 57)",
                refusal(RawGGUF.header(3, 2, 0).tensor("w", ROW, 24, 0).tensor("w", ROW, 24, 32).data(32, 64)));
        assertEquals("tensor name '" + "n".repeat(64) + "' has 64 bytes, more than ggml's 63 (at byte 24)",
                refusal(RawGGUF.header(3, 1, 0).tensor("n".repeat(64), ROW, 24, 0).data(32, 32)));
    }

    @Test
    void tensorDataMustBeAlignedAndInsideTheFile() throws IOException {
        assertEquals("tensor 'w' data offset 16 is not a multiple of the alignment 32 (at byte 49)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", ROW, 24, 16).data(32, 64)));
        assertEquals("tensor 'w' data offset 18446744073709551584 is not a multiple of the alignment 32 (at byte 49)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", ROW, 24, -32).data(32, 64)));
        assertEquals("tensor 'w' data (32 bytes at byte 4160) runs past the end of the 128-byte file (at byte 49)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", ROW, 24, 4096).data(32, 64)));
        assertEquals("tensor 'w' data (128 bytes at byte 64) runs past the end of the 164-byte file (at byte 49)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", ROW, 0, 0).data(32, 100)));
        assertEquals("tensor 'w' data (9223372036854775807 bytes at byte 64) runs past the end of the 64-byte file (at byte 49)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", new long[]{Long.MAX_VALUE}, 24, 0).data(32, 0)));
        assertEquals("truncated: the data section would start at byte 64 of a 57-byte file (at byte 57)",
                refusal(RawGGUF.header(3, 1, 0).tensor("w", ROW, 24, 0)));
    }

    private static final int F32 = 0;
    private static final int F16 = 1;
    private static final long[] SIXTEEN = {16};

    /** Two tensors of 16 weights, {@code a} of type {@code typeOfA} at offset 0 and {@code b} (f32) at {@code offsetOfB}. */
    private static RawGGUF twoTensors(int typeOfA, long offsetOfB) {
        return RawGGUF.header(3, 2, 0).tensor("a", SIXTEEN, typeOfA, 0).tensor("b", SIXTEEN, F32, offsetOfB).data(32, 256);
    }

    @Test
    void tensorDataFollowOneAnotherAsLlamaCppRequires() throws IOException {
        assertEquals("tensor 'b' data (64 bytes at offset 0) overlaps tensor 'a' (f32 [16], 64 bytes at offset 0) (at byte 82)",
                refusal(twoTensors(F32, 0)), "a tensor at offset 0 over the first");
        assertEquals("tensor 'b' data (64 bytes at offset 32) overlaps tensor 'a' (f32 [16], 64 bytes at offset 0) (at byte 82)",
                refusal(twoTensors(F32, 32)), "a's type changed from f16 to f32: its data no longer fits before b");
        assertEquals("tensor 'b' data (64 bytes at offset 64) leaves a gap after tensor 'a' (f16 [16], 32 bytes at offset 0): "
                        + "the next tensor's data must start at offset 32 (at byte 82)",
                refusal(twoTensors(F16, 64)), "a's type changed from f32 to f16");
        assertEquals("tensor 'a' data (64 bytes at offset 64) does not start the data section: the first tensor's data must be "
                        + "at offset 0 (at byte 49)",
                refusal(RawGGUF.header(3, 1, 0).tensor("a", SIXTEEN, F32, 64).data(32, 256)));
        Path valid = twoTensors(F32, 64).writeTo(dir.resolve("valid.gguf"));
        try (GGUFFile file = GGUFFile.open(valid)) {
            assertEquals(file.dataOffset() + 64, file.tensor("b").fileOffset());
        }
    }
}
