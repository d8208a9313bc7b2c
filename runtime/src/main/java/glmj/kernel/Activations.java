package glmj.kernel;

import glmj.tensor.blocks.FloatFormats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;

/**
 * Rows of activations converted once per matmul into what the weight type's dot kernel reads, as ggml converts them
 * to the type's {@code vec_dot_type}: kept f32 for f32 weights, rounded to f16 or bf16 for those, or quantized to 8
 * bits in blocks of 32 (q8_0: f16 scale amax/127; q8_1 adds the f16 sum of the block's values as quantized) or 256
 * (q8_K: f32 scale -max/127, plus the sum of every 16 quants).
 * The 8-bit quants are kept widened to 16 bits, the width the integer kernels multiply in. Buffers grow to the
 * largest batch seen and are then reused. Only the kernels of this package read them.
 */
public final class Activations {

    VecDotType format;
    /** Row length. */
    int cols;
    /** F32 / F16 / BF16: the values, row after row. */
    float[] values = new float[0];
    /** Q8_0 / Q8_1 / Q8_K: the quants, row after row. */
    short[] quants = new short[0];
    /** Q8_0 / Q8_1 / Q8_K: the scale of each block, row after row. */
    float[] scales = new float[0];
    /** Q8_1: each block's scale times the sum of its quants, rounded to f16, which the weights' minimums multiply. */
    float[] scaledSums = new float[0];
    /** Q8_K: the sum of each 16 quants, row after row. */
    int[] sums16 = new int[0];
    /** Q8_0 / Q8_1 / Q8_K when prepared for expanding: each quant times its block's scale, the value it stands for. */
    float[] expanded = new float[0];
    private boolean expanding;

    /**
     * Makes room for {@code rows} rows of {@code cols} values in {@code format}, and for their {@link #expanded} values
     * when {@code expanding}; {@link #convertRow} then fills the rows, in any order and from any thread.
     */
    void prepare(VecDotType format, int rows, int cols, boolean expanding) {
        if (cols % format.blockSize != 0) {
            throw new IllegalArgumentException("rows of " + cols + " are not whole " + format + " blocks of " + format.blockSize);
        }
        this.format = format;
        this.cols = cols;
        this.expanding = expanding && format.quantized(); // float rows are their own expansion
        int n = rows * cols;
        switch (format) {
            case F32, F16, BF16 -> {
                if (values.length < n) {
                    values = Arrays.copyOf(values, n);
                }
            }
            case Q8_0, Q8_1, Q8_K -> {
                if (quants.length < n) {
                    quants = Arrays.copyOf(quants, n);
                    scales = Arrays.copyOf(scales, n / 32);
                    scaledSums = Arrays.copyOf(scaledSums, n / 32);
                    sums16 = Arrays.copyOf(sums16, n / 16);
                }
                if (this.expanding && expanded.length < n) {
                    expanded = Arrays.copyOf(expanded, n);
                }
            }
        }
    }

    /** The rows as floats, for the panels: the values, or the quants {@link #expanded}. */
    float[] panelValues() {
        return format.quantized() ? expanded : values;
    }

    /** Converts the {@link #cols} values at {@code x[from..]} into row {@code row}. */
    void convertRow(float[] x, int from, int row) {
        int at = row * cols;
        switch (format) {
            case F32, F16, BF16 -> round(format, x, from, values, at, cols);
            case Q8_0 -> {
                for (int b = 0; b < cols; b += 32) {
                    quantizeQ8_0(x, from + b, at + b);
                }
            }
            case Q8_1 -> {
                for (int b = 0; b < cols; b += 32) {
                    quantizeQ8_1(x, from + b, at + b);
                }
            }
            case Q8_K -> {
                for (int b = 0; b < cols; b += 256) {
                    quantizeQ8_K(x, from + b, at + b);
                }
            }
        }
        if (expanding) {
            expand(at, at + cols);
        }
    }

    /** Fills {@link #expanded} over {@code [from, to)}: each quant times its block's scale. */
    private void expand(int from, int to) {
        int blockSize = format.blockSize;
        for (int block = from; block < to; block += blockSize) {
            FloatVector scale = FloatVector.broadcast(Lanes.F, scales[block / blockSize]);
            for (int i = block; i < block + blockSize; i += Lanes.F.length()) {
                ((FloatVector) ShortVector.fromArray(Lanes.HALF, quants, i).convertShape(VectorOperators.S2F, Lanes.F, 0))
                        .lanewise(VectorOperators.MUL, scale).intoArray(expanded, i);
            }
        }
    }

    private static void round(VecDotType format, float[] x, int from, float[] to, int at, int n) {
        switch (format) {
            case F32 -> System.arraycopy(x, from, to, at, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    to[at + i] = Float.float16ToFloat(Float.floatToFloat16(x[from + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    to[at + i] = FloatFormats.bf16ToF32(FloatFormats.f32ToBf16(x[from + i]) & 0xFFFF);
                }
            }
            default -> throw new AssertionError(format);
        }
    }

    /** ggml's x86 quantize_row_q8_0: scale amax/127 stored as f16, quants x*127/amax rounded half to even. */
    private void quantizeQ8_0(float[] x, int from, int at) {
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[from + i]));
        }
        float id = amax != 0 ? 127.0f / amax : 0.0f;
        scales[at / 32] = Float.float16ToFloat(Float.floatToFloat16(amax / 127.0f));
        for (int i = 0; i < 32; i++) {
            quants[at + i] = (short) Math.rint(x[from + i] * id);
        }
    }

    /** ggml's x86 quantize_row_q8_1: q8_0's scale and quants, plus the f16 of the unrounded scale times their sum. */
    private void quantizeQ8_1(float[] x, int from, int at) {
        quantizeQ8_0(x, from, at);
        float amax = 0;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[from + i]));
            sum += quants[at + i];
        }
        scaledSums[at / 32] = Float.float16ToFloat(Float.floatToFloat16(amax / 127.0f * sum));
    }

    /** ggml's quantize_row_q8_K: scale -max/127 of the value of largest magnitude, quants rounded half to even, capped at 127. */
    private void quantizeQ8_K(float[] x, int from, int at) {
        float amax = 0;
        float max = 0;
        for (int i = 0; i < 256; i++) {
            float ax = Math.abs(x[from + i]);
            if (ax > amax) {
                amax = ax;
                max = x[from + i];
            }
        }
        if (amax == 0) {
            scales[at / 256] = 0;
            Arrays.fill(quants, at, at + 256, (short) 0);
            Arrays.fill(sums16, at / 16, at / 16 + 16, 0);
            return;
        }
        float iscale = -127.0f / max;
        for (int i = 0; i < 256; i++) {
            quants[at + i] = (short) Math.min(127, (int) Math.rint(iscale * x[from + i]));
        }
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                sum += quants[at + 16 * g + i];
            }
            sums16[at / 16 + g] = sum;
        }
        scales[at / 256] = 1 / iscale;
    }
}
