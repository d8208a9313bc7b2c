package glmj.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import glmj.tensor.blocks.IQ4_NLBlock;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.MXFP4Block;
import glmj.tensor.blocks.Q4_0Block;
import glmj.tensor.blocks.Q4_KBlock;
import glmj.tensor.blocks.Q5_0Block;
import glmj.tensor.blocks.Q6_KBlock;
import glmj.tensor.blocks.Q8_0Block;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Hand-built blocks with values worked out from the format descriptions in ggml-common.h. */
class GGMLTypeDequantizeTest {
    private static final short ONE = 0x3C00;
    private static final short HALF = 0x3800;

    private static MemorySegment blocks(GGMLType type, int count) {
        return MemorySegment.ofArray(new byte[(int) type.byteSize((long) count * type.blockSize)]);
    }

    @Test
    void blockGeometryMatchesGgmlStaticAsserts() {
        int[][] expected = {
                {GGMLType.Q4_0.id, 32, 18}, {GGMLType.Q4_1.id, 32, 20}, {GGMLType.Q5_0.id, 32, 22}, {GGMLType.Q5_1.id, 32, 24},
                {GGMLType.Q8_0.id, 32, 34}, {GGMLType.Q2_K.id, 256, 84}, {GGMLType.Q3_K.id, 256, 110},
                {GGMLType.Q4_K.id, 256, 144}, {GGMLType.Q5_K.id, 256, 176}, {GGMLType.Q6_K.id, 256, 210},
                {GGMLType.Q8_K.id, 256, 292}, {GGMLType.IQ2_XXS.id, 256, 66}, {GGMLType.IQ2_XS.id, 256, 74},
                {GGMLType.IQ2_S.id, 256, 82}, {GGMLType.IQ3_XXS.id, 256, 98}, {GGMLType.IQ3_S.id, 256, 110},
                {GGMLType.IQ1_S.id, 256, 50}, {GGMLType.IQ1_M.id, 256, 56}, {GGMLType.IQ4_NL.id, 32, 18},
                {GGMLType.IQ4_XS.id, 256, 136}, {GGMLType.MXFP4.id, 32, 17}};
        for (int[] row : expected) {
            GGMLType type = GGMLType.byId(row[0]);
            assertEquals(row[1], type.blockSize, type.ggmlName);
            assertEquals(row[2], type.typeSize, type.ggmlName);
        }
    }

    @Test
    void q8_0WithUnitScaleGivesItsQuants() {
        MemorySegment seg = blocks(GGMLType.Q8_0, 2);
        float[] expected = new float[64];
        for (int b = 0; b < 2; b++) {
            long block = (long) b * Q8_0Block.BYTES;
            seg.set(LittleEndian.SHORT, block + Q8_0Block.D_OFFSET, b == 0 ? ONE : HALF);
            for (int i = 0; i < 32; i++) {
                byte q = (byte) (i * 9 - 128);
                seg.set(ValueLayout.JAVA_BYTE, block + Q8_0Block.QS_OFFSET + i, q);
                expected[32 * b + i] = b == 0 ? q : q / 2f;
            }
        }
        assertArrayEquals(expected, GGMLType.Q8_0.dequantizeAll(seg, 64));
    }

    @Test
    void q4_0LowNibblesFirstThenHighNibbles() {
        MemorySegment seg = blocks(GGMLType.Q4_0, 1);
        seg.set(LittleEndian.SHORT, Q4_0Block.D_OFFSET, (short) 0x4000); // 2.0
        for (int j = 0; j < 16; j++) {
            seg.set(ValueLayout.JAVA_BYTE, Q4_0Block.QS_OFFSET + j, (byte) (j | (15 - j) << 4));
        }
        float[] out = GGMLType.Q4_0.dequantizeAll(seg, 32);
        for (int j = 0; j < 16; j++) {
            assertEquals(2f * (j - 8), out[j]);
            assertEquals(2f * (7 - j), out[j + 16]);
        }
    }

    @Test
    void q5_0FifthBitComesFromQh() {
        MemorySegment seg = blocks(GGMLType.Q5_0, 1);
        seg.set(LittleEndian.SHORT, Q5_0Block.D_OFFSET, ONE);
        seg.set(LittleEndian.INT, Q5_0Block.QH_OFFSET, 0x8000_0001); // elements 0 and 31
        float[] out = GGMLType.Q5_0.dequantizeAll(seg, 32);
        assertEquals(0f, out[0]);    // 16 - 16
        assertEquals(0f, out[31]);
        assertEquals(-16f, out[1]);
        assertEquals(-16f, out[30]);
    }

    @Test
    void q4_KScalesAndMins() {
        MemorySegment seg = blocks(GGMLType.Q4_K, 1);
        seg.set(LittleEndian.SHORT, KQuantHeader.D_OFFSET, ONE);
        seg.set(LittleEndian.SHORT, KQuantHeader.DMIN_OFFSET, HALF);
        int[] scales = {1, 2, 63, 0, 33, 17, 48, 5};
        int[] mins = {0, 4, 1, 62, 7, 40, 3, 63};
        packKScales(seg, KQuantHeader.SCALES_OFFSET, scales, mins);
        for (int s = 0; s < 8; s++) {
            assertEquals(scales[s], KQuantHeader.scale(seg, 0, s));
            assertEquals(mins[s], KQuantHeader.min(seg, 0, s));
        }
        for (int l = 0; l < 128; l++) {
            seg.set(ValueLayout.JAVA_BYTE, Q4_KBlock.QS_OFFSET + l, (byte) 0x21);
        }
        float[] out = GGMLType.Q4_K.dequantizeAll(seg, 256);
        for (int i = 0; i < 256; i++) {
            int s = i / 32;
            int q = s % 2 == 0 ? 1 : 2;
            assertEquals(scales[s] * q - 0.5f * mins[s], out[i], "weight " + i);
        }
    }

    /** Packs 6-bit scales and mins the way KQuantHeader documents it, independently of its readers. */
    private static void packKScales(MemorySegment seg, long offset, int[] scales, int[] mins) {
        byte[] packed = new byte[KQuantHeader.SCALES_BYTES];
        for (int j = 0; j < 4; j++) {
            packed[j] = (byte) (scales[j] | (scales[j + 4] >> 4) << 6);
            packed[j + 4] = (byte) (mins[j] | (mins[j + 4] >> 4) << 6);
            packed[j + 8] = (byte) ((scales[j + 4] & 0xF) | (mins[j + 4] & 0xF) << 4);
        }
        MemorySegment.copy(packed, 0, seg, ValueLayout.JAVA_BYTE, offset, packed.length);
    }

    @Test
    void q6_KSignedScalesAndCenteredQuants() {
        MemorySegment seg = blocks(GGMLType.Q6_K, 1);
        seg.set(LittleEndian.SHORT, Q6_KBlock.D_OFFSET, ONE);
        for (int s = 0; s < 16; s++) {
            seg.set(ValueLayout.JAVA_BYTE, Q6_KBlock.SCALES_OFFSET + s, (byte) (s % 2 == 0 ? -s : s));
        }
        // all low nibbles 0, all high bit pairs 3: q = 48, centered 16
        for (int i = 0; i < 64; i++) {
            seg.set(ValueLayout.JAVA_BYTE, Q6_KBlock.QH_OFFSET + i, (byte) 0xFF);
        }
        float[] out = GGMLType.Q6_K.dequantizeAll(seg, 256);
        for (int i = 0; i < 256; i++) {
            int s = i / 16;
            assertEquals(16f * (s % 2 == 0 ? -s : s), out[i], "weight " + i);
        }
    }

    @Test
    void iq4_nlMapsThroughItsTable() {
        MemorySegment seg = blocks(GGMLType.IQ4_NL, 1);
        seg.set(LittleEndian.SHORT, IQ4_NLBlock.D_OFFSET, ONE);
        for (int j = 0; j < 16; j++) {
            seg.set(ValueLayout.JAVA_BYTE, IQ4_NLBlock.QS_OFFSET + j, (byte) (j | (15 - j) << 4));
        }
        float[] out = GGMLType.IQ4_NL.dequantizeAll(seg, 32);
        float[] levels = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        for (int j = 0; j < 16; j++) {
            assertEquals(levels[j], out[j]);
            assertEquals(levels[15 - j], out[j + 16]);
        }
    }

    @Test
    void mxfp4DecodesE2M1TimesPowerOfTwo() {
        MemorySegment seg = blocks(GGMLType.MXFP4, 1);
        seg.set(ValueLayout.JAVA_BYTE, MXFP4Block.E_OFFSET, (byte) 129); // scale 2^(129-127) = 4
        for (int j = 0; j < 16; j++) {
            seg.set(ValueLayout.JAVA_BYTE, MXFP4Block.QS_OFFSET + j, (byte) (j | j << 4));
        }
        float[] e2m1 = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
        float[] out = GGMLType.MXFP4.dequantizeAll(seg, 32);
        for (int j = 0; j < 16; j++) {
            // ggml multiplies an integer table entry, so the "negative zero" code decodes as +0
            float expected = j == 8 ? 0f : 4 * e2m1[j];
            assertEquals(expected, out[j], "code " + j);
            assertEquals(expected, out[j + 16], "code " + j);
        }
    }

    @Test
    void f16AndBf16() {
        MemorySegment seg = MemorySegment.ofArray(new short[] {ONE, (short) 0xC000, 0x0001, (short) 0xFC00});
        assertArrayEquals(new float[] {1f, -2f, 0x1.0p-24f, Float.NEGATIVE_INFINITY}, GGMLType.F16.dequantizeAll(seg, 4));
        MemorySegment bf = MemorySegment.ofArray(new short[] {0x3F80, (short) 0xC040});
        assertArrayEquals(new float[] {1f, -3f}, GGMLType.BF16.dequantizeAll(bf, 2));
    }

    @Test
    void dequantizeHonoursOffsets() {
        MemorySegment seg = MemorySegment.ofArray(new byte[5 + 2 * Q8_0Block.BYTES]);
        for (int b = 0; b < 2; b++) {
            long block = 5 + (long) b * Q8_0Block.BYTES;
            seg.set(LittleEndian.SHORT, block + Q8_0Block.D_OFFSET, ONE);
            seg.set(ValueLayout.JAVA_BYTE, block + Q8_0Block.QS_OFFSET, (byte) (b + 1));
        }
        float[] dst = new float[70];
        GGMLType.Q8_0.dequantize(seg, 5 + Q8_0Block.BYTES, dst, 3, 32);
        assertEquals(0f, dst[2]);
        assertEquals(2f, dst[3]);
        assertEquals(0f, dst[4]);
    }

    @Test
    void unsupportedTypesNameThemselves() {
        for (GGMLType type : new GGMLType[] {GGMLType.TQ1_0, GGMLType.Q8_1, GGMLType.I32, GGMLType.NVFP4}) {
            assertFalse(type.isReadable());
            var e = assertThrows(UnsupportedOperationException.class,
                    () -> type.dequantizeAll(MemorySegment.ofArray(new byte[1024]), type.blockSize));
            assertEquals("tensor type " + type.ggmlName + " is not supported for reading", e.getMessage());
        }
        assertTrue(GGMLType.IQ2_XXS.isReadable());
    }

    @Test
    void badRangesAreReportedNotIndexErrors() {
        MemorySegment seg = blocks(GGMLType.Q4_K, 1);
        var partial = assertThrows(IllegalArgumentException.class, () -> GGMLType.Q4_K.dequantizeAll(seg, 100));
        assertEquals("100 weights is not a whole number of q4_K blocks of 256", partial.getMessage());
        var past = assertThrows(IllegalArgumentException.class, () -> GGMLType.Q4_K.dequantizeAll(seg, 512));
        assertEquals("512 q4_K weights (288 bytes) at byte offset 0 do not fit in a segment of 144 bytes", past.getMessage());
        var dst = assertThrows(IllegalArgumentException.class,
                () -> GGMLType.Q4_K.dequantize(seg, 0, new float[300], 100, 256));
        assertEquals("256 q4_K weights do not fit at index 100 of a float array of length 300", dst.getMessage());
    }
}
