package glmj.testdata;

import glmj.tensor.GGMLType;
import glmj.tensor.blocks.KQuantHeader;
import glmj.tensor.blocks.LittleEndian;
import glmj.tensor.blocks.Q2_KBlock;
import glmj.tensor.blocks.Q4_1Block;
import glmj.tensor.blocks.Q5_1Block;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random but valid blocks of a quantized type, written straight into their bytes without a float intermediate (the
 * K- and IQ-quantizers search, megabytes per second; this writes gigabytes per minute). Quant bits are uniformly
 * random; every f16 scale is set so that the weights have the asked root mean square, times a factor
 * drawn per block from [0.5, 1.5) as real blocks vary. The weights' mean is near zero: the symmetric formats (Q8_0,
 * Q4_0, Q3_K, Q6_K, the IQ grids, ...) have quants centered within half a step and take a random sign on their scale,
 * as their quantizers give it, and for the formats that subtract a minimum (Q2_K, Q4_K, Q5_K, Q4_1, Q5_1) the
 * minimum is set to the sub-block's mean quant times its scale.
 * So a matrix keeps the scale of the vector it multiplies, as the float weights of {@link Weights.Init#MATRIX} do.
 */
final class RandomBlocks {
    /** Blocks dequantized to measure a type's root mean square at unit scale. */
    private static final int CALIBRATION_BLOCKS = 1024;
    private static final Map<GGMLType, Double> UNIT_RMS = new EnumMap<>(GGMLType.class);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private RandomBlocks() {
    }

    /** Whether {@link #fill} can write {@code type}. */
    static boolean canWrite(GGMLType type) {
        return type.blockSize > 1 && type.isReadable() && type != GGMLType.Q8_K && type != GGMLType.MXFP4;
    }

    /** Fills {@code blocks}, a whole number of {@code type} blocks, with random blocks whose weights have root mean square {@code rms}. */
    static void fill(GGMLType type, MemorySegment blocks, double rms, SplittableRandom random) {
        write(type, blocks, rms / unitRms(type), random);
    }

    /** The root mean square of {@code type}'s weights written at scale 1, measured once by decoding random blocks. */
    private static synchronized double unitRms(GGMLType type) {
        return UNIT_RMS.computeIfAbsent(type, t -> {
            MemorySegment sample = MemorySegment.ofArray(new long[(CALIBRATION_BLOCKS * t.typeSize + 7) / 8])
                    .asSlice(0, (long) CALIBRATION_BLOCKS * t.typeSize);
            write(t, sample, 1.0, new SplittableRandom(t.id));
            float[] weights = new float[CALIBRATION_BLOCKS * t.blockSize];
            t.dequantize(sample, 0, weights, 0, weights.length);
            double sum = 0;
            for (float w : weights) {
                sum += (double) w * w;
            }
            return Math.sqrt(sum / weights.length);
        });
    }

    private static void write(GGMLType type, MemorySegment blocks, double scale, SplittableRandom random) {
        if (!canWrite(type)) {
            throw new IllegalArgumentException("random blocks of " + type.ggmlName + " are not supported");
        }
        long size = blocks.byteSize();
        if (size % type.typeSize != 0) {
            throw new IllegalArgumentException(size + " bytes is not a whole number of " + type.ggmlName + " blocks");
        }
        long i = 0;
        for (; i + Long.BYTES <= size; i += Long.BYTES) {
            blocks.set(LONG, i, random.nextLong());
        }
        for (; i < size; i++) {
            blocks.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
        }
        switch (type) {
            case Q2_K, Q4_K, Q5_K, Q4_1, Q5_1 -> {
                for (long block = 0; block < size; block += type.typeSize) {
                    setScalesAndMins(type, blocks, block, jittered(scale, random), random);
                }
            }
            // every other format has one f16 scale per block and quants centered within half a step (as q - 8 in Q4_0):
            // a random sign, as their quantizers give, centers them exactly
            default -> BlockScales.set(type, blocks,
                    () -> Float.floatToFloat16((float) ((random.nextBoolean() ? 1 : -1) * jittered(scale, random))));
        }
    }

    /** A block's scale: {@code scale} times a factor from [0.5, 1.5). */
    private static double jittered(double scale, SplittableRandom random) {
        return scale * (0.5 + random.nextDouble());
    }

    /** The scales of a format that subtracts a minimum, the minimum set to the mean quant times the scale. */
    private static void setScalesAndMins(GGMLType type, MemorySegment blocks, long block, double d, SplittableRandom random) {
        switch (type) {
            case Q2_K -> {
                // a 4-bit scale s and min m per 16 weights of 2-bit quants (mean 1.5): m = 1.5 s (s even) with dmin = d
                for (int j = 0; j < 16; j++) {
                    int s = 4 + 2 * random.nextInt(4);
                    blocks.set(ValueLayout.JAVA_BYTE, block + Q2_KBlock.SCALES_OFFSET + j, (byte) (s | 3 * s / 2 << 4));
                }
                blocks.set(LittleEndian.SHORT, block + Q2_KBlock.D_OFFSET, Float.floatToFloat16((float) d));
                blocks.set(LittleEndian.SHORT, block + Q2_KBlock.DMIN_OFFSET, Float.floatToFloat16((float) d));
            }
            case Q4_K, Q5_K -> {
                // a 6-bit scale s and min m per 32 weights of 4-bit (5-bit) quants of mean 7.5 (15.5), dmin = 8 d (16 d)
                float meanQuant = type == GGMLType.Q4_K ? 7.5f : 15.5f;
                int minScale = type == GGMLType.Q4_K ? 8 : 16;
                int[] scales = new int[8];
                int[] mins = new int[8];
                for (int j = 0; j < 8; j++) {
                    scales[j] = 32 + random.nextInt(32);
                    mins[j] = Math.round(meanQuant * scales[j] / minScale);
                }
                KQuantHeader.put(blocks, block, Float.floatToFloat16((float) d), Float.floatToFloat16((float) (minScale * d)),
                        scales, mins);
            }
            case Q4_1 -> {
                blocks.set(LittleEndian.SHORT, block + Q4_1Block.D_OFFSET, Float.floatToFloat16((float) d));
                blocks.set(LittleEndian.SHORT, block + Q4_1Block.M_OFFSET, Float.floatToFloat16((float) (-7.5 * d)));
            }
            case Q5_1 -> {
                blocks.set(LittleEndian.SHORT, block + Q5_1Block.D_OFFSET, Float.floatToFloat16((float) d));
                blocks.set(LittleEndian.SHORT, block + Q5_1Block.M_OFFSET, Float.floatToFloat16((float) (-15.5 * d)));
            }
            default -> throw new IllegalArgumentException(type.ggmlName + " has no minimum");
        }
    }
}
