package glmj.bench;

import glmj.tensor.quantize.Quantizer;
import glmj.tensor.GGMLType;
import glmj.tensor.blocks.LittleEndian;
import glmj.testdata.BlockScales;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Weights for the benchmarks: realistic blocks of every type the kernels read, and which types those are.
 *
 * <p>Where glmj has a quantizer for the type (every quantized type a model holds), the blocks are random Gaussian
 * weights quantized by it (the scales, mins and quants a real model has; the types that need an importance matrix get
 * the same importance for every column); otherwise every byte is random except the f16 scales, which get ordinary
 * magnitudes, as in the kernel tests.
 */
public final class BenchWeights {
    /** The standard deviation of the random weights: what a trained projection's weights are like. */
    private static final double WEIGHT_SCALE = 0.02;

    private BenchWeights() {
    }

    /** Every type the vector kernels multiply (its row of the type table names a dot kernel), from most to fewest bits per weight. */
    public static List<GGMLType> benchmarkable() {
        List<GGMLType> types = new ArrayList<>();
        for (GGMLType type : GGMLType.values()) {
            if (type.dotKernel() != null) {
                types.add(type);
            }
        }
        types.sort(Comparator.comparingDouble(GGMLType::bitsPerWeight).reversed());
        return types;
    }

    /**
     * Fills {@code data} with {@code rows} rows of {@code cols} weights of {@code type}. The first {@code patchRows}
     * rows are made as the class comment says and repeated over the rest (content does not change how fast a kernel
     * streams, and this keeps a gigabyte of weights quick to make).
     */
    public static void fill(GGMLType type, MemorySegment data, long rows, int cols, int patchRows, Random random) {
        int patch = (int) Math.min(rows, patchRows);
        long patchBytes = patch * type.byteSize(cols);
        fill(type, data.asSlice(0, patchBytes), patch, cols, random);
        long total = rows * type.byteSize(cols);
        for (long at = patchBytes; at < total; at += patchBytes) {
            MemorySegment.copy(data, 0, data, at, Math.min(patchBytes, total - at));
        }
    }

    /** Fills {@code data} with {@code rows} rows of {@code cols} weights of {@code type}, each row made afresh. */
    public static void fill(GGMLType type, MemorySegment data, int rows, int cols, Random random) {
        long bytes = rows * type.byteSize(cols);
        if (type == GGMLType.F32) {
            for (long i = 0; i < bytes / Float.BYTES; i++) {
                data.set(LittleEndian.FLOAT, Float.BYTES * i, (float) (random.nextGaussian() * WEIGHT_SCALE));
            }
        } else if (Quantizer.canQuantize(type)) {
            float[] row = new float[cols];
            float[] importance = null;
            if (Quantizer.requiresImportance(type)) { // every column alike, for the types that need importance
                importance = new float[cols];
                java.util.Arrays.fill(importance, 1f);
            }
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < cols; i++) {
                    row[i] = (float) (random.nextGaussian() * WEIGHT_SCALE);
                }
                Quantizer.quantize(type, row, 0, 1, cols, importance, data, r * type.byteSize(cols));
            }
        } else {
            randomBlocks(type, data.asSlice(0, bytes), random);
        }
    }

    /** Random quant bytes with ordinary, finite f16 scales. */
    private static void randomBlocks(GGMLType type, MemorySegment blocks, Random random) {
        byte[] bytes = new byte[Math.toIntExact(blocks.byteSize())];
        random.nextBytes(bytes);
        MemorySegment.copy(bytes, 0, blocks, ValueLayout.JAVA_BYTE, 0, bytes.length);
        if (type.blockSize == 1) { // f16 or bf16 without a quantizer: ordinary values
            for (long i = 0; i < blocks.byteSize() / 2; i++) {
                float value = (float) (random.nextGaussian() * WEIGHT_SCALE);
                short bits = type == GGMLType.F16 ? Float.floatToFloat16(value) : (short) (Float.floatToRawIntBits(value) >>> 16);
                blocks.set(LittleEndian.SHORT, 2 * i, bits);
            }
            return;
        }
        BlockScales.set(type, blocks, () -> ordinaryHalf(random));
    }

    /** A block scale around 0.002 (within a factor of e for two blocks in three): weights of a few hundredths. */
    private static short ordinaryHalf(Random random) {
        return Float.floatToFloat16((float) (0.002 * Math.exp(random.nextGaussian() * 0.5)));
    }
}
