package glmj.tensor.quantize;

import glmj.tensor.GGMLType;
import glmj.tensor.blocks.IQ4_XSBlock;
import glmj.tensor.blocks.IQTables;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q3_KBlock;
import glmj.tensor.blocks.Q6_KBlock;
import glmj.tensor.blocks.Q8_0Block;
import glmj.tensor.blocks.Q8_KBlock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quantize, then dequantize with the runtime's decoders: the error stays within what each format guarantees. */
class RoundTripTest {

    private static final int N = 2048;

    /** Gaussian rows at magnitudes from tiny to large (within f16 scale range), plus rows with constant runs. */
    private static List<float[]> rows() {
        List<float[]> rows = new ArrayList<>();
        Random random = new Random(11);
        for (float sigma : new float[] {1e-4f, 0.02f, 1f, 300f}) {
            float[] row = new float[N];
            for (int i = 0; i < N; i++) {
                row[i] = (float) random.nextGaussian() * sigma * (random.nextInt(100) == 0 ? 8 : 1);
            }
            rows.add(row);
        }
        float[] runs = new float[N];
        for (int i = 0; i < N; i++) {
            runs[i] = switch ((i / 16) % 4) {
                case 0 -> 0.75f;
                case 1 -> -3f;
                case 2 -> 0f;
                default -> random.nextInt(7) - 3;
            };
        }
        rows.add(runs);
        return rows;
    }

    private static float[] roundTrip(GGMLType type, float[] row, Arena arena, MemorySegment[] quantized) {
        if (Quantizer.requiresImportance(type)) {
            float[] ones = new float[row.length];
            java.util.Arrays.fill(ones, 1f);
            return roundTrip(type, row, 1, row.length, ones, arena);
        }
        quantized[0] = Quantizer.quantize(type, row, arena);
        float[] back = new float[row.length];
        type.dequantize(quantized[0], 0, back, 0, row.length);
        return back;
    }

    /** {@code rows} rows of {@code perRow} quantized with {@code importance}, then decoded. */
    private static float[] roundTrip(GGMLType type, float[] weights, int rows, int perRow, float[] importance, Arena arena) {
        MemorySegment quantized = arena.allocate(type.byteSize(weights.length));
        Quantizer.quantize(type, weights, 0, rows, perRow, importance, quantized, 0);
        float[] back = new float[weights.length];
        type.dequantize(quantized, 0, back, 0, weights.length);
        return back;
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "Q8_K", "IQ4_NL", "IQ4_XS", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S"})
    void zeroRowComesBackZero(GGMLType type) {
        try (Arena arena = Arena.ofConfined()) {
            float[] back = roundTrip(type, new float[N], arena, new MemorySegment[1]);
            for (int i = 0; i < N; i++) {
                assertEquals(0f, back[i], 0f, type.ggmlName + " element " + i);
            }
        }
    }

    @Test
    void halfFloatsRoundToTheirPrecision() {
        try (Arena arena = Arena.ofConfined()) {
            for (float[] row : rows()) {
                float[] f16 = roundTrip(GGMLType.F16, row, arena, new MemorySegment[1]);
                float[] bf16 = roundTrip(GGMLType.BF16, row, arena, new MemorySegment[1]);
                for (int i = 0; i < N; i++) {
                    float x = row[i];
                    // half an ulp of an 11-bit (f16) or 8-bit (bf16) significand; f16 subnormals have a fixed ulp of 2^-24
                    assertTrue(Math.abs(x - f16[i]) <= Math.max(Math.abs(x) * 0x1p-11f, 0x1p-25f), "f16 of " + x + ": " + f16[i]);
                    assertTrue(Math.abs(x - bf16[i]) <= Math.abs(x) * 0x1p-8f, "bf16 of " + x + ": " + bf16[i]);
                }
            }
        }
    }

    @Test
    void q8_0ErrorIsHalfAStepPlusScaleRounding() {
        try (Arena arena = Arena.ofConfined()) {
            for (float[] row : rows()) {
                MemorySegment[] blocks = new MemorySegment[1];
                float[] back = roundTrip(GGMLType.Q8_0, row, arena, blocks);
                for (int b = 0; b < N / 32; b++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(row[32 * b + j]));
                    }
                    float exactScale = amax / 127;
                    float storedScale = Q8_0Block.d(blocks[0], (long) b * Q8_0Block.BYTES);
                    // q = round(x / exactScale) is off by at most half a step; storing the scale as f16 moves q * d by 127 |Δd|
                    float bound = exactScale / 2 + 127 * Math.abs(exactScale - storedScale) + exactScale * 0x1p-12f;
                    for (int j = 0; j < 32; j++) {
                        int i = 32 * b + j;
                        assertTrue(Math.abs(row[i] - back[i]) <= bound, "q8_0 element " + i + ": " + row[i] + " -> " + back[i] + ", bound " + bound);
                    }
                }
            }
        }
    }

    @Test
    void q8_KErrorIsHalfAStep() {
        try (Arena arena = Arena.ofConfined()) {
            for (float[] row : rows()) {
                MemorySegment[] blocks = new MemorySegment[1];
                float[] back = roundTrip(GGMLType.Q8_K, row, arena, blocks);
                for (int b = 0; b < N / 256; b++) {
                    long block = (long) b * Q8_KBlock.BYTES;
                    float d = Math.abs(Q8_KBlock.d(blocks[0], block));
                    for (int group = 0; group < 16; group++) {
                        int sum = 0;
                        for (int j = 0; j < 16; j++) {
                            sum += LittleEndian.i8(blocks[0], block + Q8_KBlock.QS_OFFSET + 16 * group + j);
                        }
                        assertEquals(sum, Q8_KBlock.bsum(blocks[0], block, group), "q8_K bsum " + group + " of block " + b);
                    }
                    for (int j = 0; j < 256; j++) {
                        int i = 256 * b + j;
                        assertTrue(Math.abs(row[i] - back[i]) <= d / 2 + d * 0x1p-12f, "q8_K element " + i);
                    }
                }
            }
        }
    }

    /** The levels sub-block {@code s} of block {@code block} can represent, as its decoder computes them. */
    private interface Levels {
        float[] of(MemorySegment blocks, long block, int s);
    }

    /**
     * The K-quants requantize every weight against the final stored scales, so each weight must come back as the
     * level of its sub-block nearest to it (up to float rounding in the division that picks it).
     */
    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS"})
    void kQuantsPickTheNearestLevelOfTheirSubBlock(GGMLType type) {
        int subBlock = switch (type) {
            case Q2_K, Q3_K, Q6_K -> 16;
            default -> 32;
        };
        Levels levels = switch (type) {
            case Q2_K -> (blocks, block, s) -> {
                int packed = LittleEndian.u8(blocks, block + Q2_KBlock.SCALES_OFFSET + s);
                return affine(Q2_KBlock.d(blocks, block) * (packed & 0xF), Q2_KBlock.dmin(blocks, block) * (packed >>> 4), 4);
            };
            case Q3_K -> (blocks, block, s) -> symmetric(Q3_KBlock.d(blocks, block) * Q3_KBlock.scale(blocks, block, s), 8, 4);
            case Q4_K, Q5_K -> (blocks, block, s) -> affine(KQuantHeader.d(blocks, block) * KQuantHeader.scale(blocks, block, s),
                    KQuantHeader.dmin(blocks, block) * KQuantHeader.min(blocks, block, s), type == GGMLType.Q4_K ? 16 : 32);
            case Q6_K -> (blocks, block, s) -> symmetric(Q6_KBlock.d(blocks, block) * Q6_KBlock.scale(blocks, block, s), 64, 32);
            default -> (blocks, block, s) -> {
                float dg = IQ4_XSBlock.d(blocks, block) * IQ4_XSBlock.scale(blocks, block, s);
                float[] values = new float[16];
                for (int k = 0; k < 16; k++) {
                    values[k] = dg * IQTables.KVALUES_IQ4NL[k];
                }
                return values;
            };
        };
        try (Arena arena = Arena.ofConfined()) {
            for (float[] row : rows()) {
                MemorySegment[] blocks = new MemorySegment[1];
                float[] back = roundTrip(type, row, arena, blocks);
                for (int b = 0; b < N / 256; b++) {
                    for (int s = 0; s < 256 / subBlock; s++) {
                        long block = (long) b * type.typeSize;
                        float[] candidates = levels.of(blocks[0], block, s);
                        float rounding = Math.abs(candidates[1] - candidates[0]) * 0x1p-16f;
                        if (type == GGMLType.IQ4_XS) {
                            // IQ4_XS picks indices with the unrounded super-block scale; rounding it to f16 (half an
                            // ulp: 2^-11 relative, 2^-25 absolute when subnormal) moves level k by |Δd * scale * k|
                            float d = Math.abs(IQ4_XSBlock.d(blocks[0], block));
                            float scaleError = Math.max(d * 0x1p-11f, 0x1p-25f) * Math.abs(IQ4_XSBlock.scale(blocks[0], block, s));
                            rounding += 2 * scaleError * 127;
                        }
                        for (int j = 0; j < subBlock; j++) {
                            int i = 256 * b + subBlock * s + j;
                            float nearest = Float.MAX_VALUE;
                            for (float level : candidates) {
                                nearest = Math.min(nearest, Math.abs(row[i] - level));
                            }
                            float error = Math.abs(row[i] - back[i]);
                            float slack = rounding + 4 * Math.ulp(Math.abs(row[i]) + Math.abs(back[i]));
                            assertTrue(error <= nearest + slack, type.ggmlName + " element " + i + ": " + row[i] + " -> "
                                    + back[i] + " but a level at distance " + nearest + " exists");
                        }
                    }
                }
            }
        }
    }

    private static float[] affine(float scale, float min, int count) {
        float[] values = new float[count];
        for (int q = 0; q < count; q++) {
            values[q] = scale * q - min;
        }
        return values;
    }

    private static float[] symmetric(float scale, int count, int offset) {
        float[] values = new float[count];
        for (int q = 0; q < count; q++) {
            values[q] = scale * (q - offset);
        }
        return values;
    }

    /**
     * Relative RMS error on unit Gaussians stays below the uniform-quantizer estimate step/sqrt(12), with the step
     * taken from a typical block range (±2.5σ over 32 weights, ±2σ over 16) and the format's levels, doubled to
     * cover the rounding of scales to a few bits.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
            "IQ4_NL", "IQ4_XS"})
    void gaussianRmsErrorMatchesTheBitBudget(GGMLType type) {
        double range = switch (type) {
            case Q2_K, Q3_K, Q6_K -> 4.0;
            case Q8_K -> 6.0;
            default -> 5.0;
        };
        int levels = switch (type) {
            case Q2_K -> 4;
            case Q3_K -> 8;
            case Q4_0, Q4_1, Q4_K, IQ4_NL, IQ4_XS -> 16;
            case Q5_0, Q5_1, Q5_K -> 32;
            case Q6_K -> 64;
            default -> 256;
        };
        double bound = 2 * (range / (levels - 1)) / Math.sqrt(12);
        Random random = new Random(3);
        float[] row = new float[16 * 256];
        for (int i = 0; i < row.length; i++) {
            row[i] = (float) random.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            float[] back = roundTrip(type, row, arena, new MemorySegment[1]);
            double squares = 0;
            double signal = 0;
            for (int i = 0; i < row.length; i++) {
                squares += (row[i] - back[i]) * (double) (row[i] - back[i]);
                signal += row[i] * (double) row[i];
            }
            double relativeRms = Math.sqrt(squares / signal);
            assertTrue(relativeRms <= bound, type.ggmlName + " relative RMS error " + relativeRms + " above " + bound);
            assertTrue(relativeRms > 0, type.ggmlName + " is lossy, an error of 0 means the data was not quantized");
        }
    }

    private static final int COLUMNS = 1024;
    private static final int ROWS = 8;

    private static float[] gaussianRows(long seed) {
        Random random = new Random(seed);
        float[] weights = new float[ROWS * COLUMNS];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) random.nextGaussian();
        }
        return weights;
    }

    /** Importance as imatrix files hold it: log-normal over columns, spanning orders of magnitude. */
    private static float[] logNormalImportance(long seed) {
        Random random = new Random(seed);
        float[] importance = new float[COLUMNS];
        for (int i = 0; i < COLUMNS; i++) {
            importance[i] = (float) Math.exp(2 * random.nextGaussian());
        }
        return importance;
    }

    /** sqrt(Σ w (x - x')² / Σ w x²) with column weights {@code w} (all 1 when null). */
    private static double relativeError(float[] weights, float[] back, float[] columnWeights) {
        double error = 0;
        double signal = 0;
        for (int i = 0; i < weights.length; i++) {
            double w = columnWeights == null ? 1 : columnWeights[i % COLUMNS];
            double d = weights[i] - back[i];
            error += w * d * d;
            signal += w * weights[i] * (double) weights[i];
        }
        return Math.sqrt(error / signal);
    }

    /**
     * Every quantizer, with importance, decodes to within three times the rate-distortion limit of a unit Gaussian
     * at its bits per weight ({@code 2^-bpw} relative RMS error; real quantizers come within 1.5-2.5 of it): a
     * quantizer and decoder that disagree on the layout land near or above 1.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL",
            "IQ4_XS", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S"})
    void gaussianErrorIsNearTheRateDistortionLimit(GGMLType type) {
        float[] weights = gaussianRows(21);
        try (Arena arena = Arena.ofConfined()) {
            for (float[] importance : new float[][] {null, logNormalImportance(22)}) {
                if (importance == null && Quantizer.requiresImportance(type)) {
                    continue;
                }
                double error = relativeError(weights, roundTrip(type, weights, ROWS, COLUMNS, importance, arena), null);
                double limit = Math.pow(2, -type.bitsPerWeight());
                String what = type.ggmlName + (importance == null ? "" : " with importance");
                assertTrue(error <= 3 * limit, what + " relative RMS error " + error + " above 3 x " + limit);
                assertTrue(error > limit, what + " relative RMS error " + error + " beats the rate-distortion limit " + limit);
            }
        }
    }

    /**
     * Importance steers the error to where it is cheap: the importance-weighted error is at least 10% below what the
     * same quantizer leaves when every column weighs the same. (Q8_0 and the float types ignore importance.)
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS",
            "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S"})
    void importanceLowersTheWeightedError(GGMLType type) {
        float[] weights = gaussianRows(31);
        float[] importance = logNormalImportance(32);
        float[] uniform = new float[COLUMNS];
        java.util.Arrays.fill(uniform, 1f);
        try (Arena arena = Arena.ofConfined()) {
            double guided = relativeError(weights, roundTrip(type, weights, ROWS, COLUMNS, importance, arena), importance);
            double unguided = relativeError(weights, roundTrip(type, weights, ROWS, COLUMNS, uniform, arena), importance);
            assertTrue(guided < 0.9 * unguided, type.ggmlName + ": weighted error " + guided + " with importance, "
                    + unguided + " without");
        }
    }
}
