package glmj.hf;

import glmj.kernel.Fp8Rows;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static glmj.hf.CheckpointFormatException.quote;

/**
 * A weight of a checkpoint as f32 values, read straight from the mapped files: an F32, F16 or BF16 tensor widened, or
 * an F8_E4M3 weight times its block scales (see {@link Fp8Scaling}). Its rows are the last dimension, so a PyTorch
 * {@code [out, in]} matrix has {@code out} rows of {@code in} values. Reading allocates nothing; any number of
 * threads may read at once.
 */
public final class CheckpointTensor {
    private final SafetensorsTensor values;
    /** The block scales of an FP8 weight, or null. */
    private final SafetensorsTensor scales;
    private final Fp8Scaling scaling;
    private final long rowLength;
    private final long rowCount;
    private final long scaleColumns;

    CheckpointTensor(SafetensorsTensor values, SafetensorsTensor scales, Fp8Scaling scaling) {
        this.values = values;
        this.scales = scales;
        this.scaling = scaling;
        long[] shape = values.shape();
        this.rowLength = shape.length == 0 ? 1 : shape[shape.length - 1];
        this.rowCount = shape.length == 0 ? 1 : values.elementCount() / Math.max(1, rowLength);
        this.scaleColumns = scales == null ? 0 : scaling.scaleColumns(rowLength);
    }

    /** A stored FP8 weight with its scales, checked against each other. */
    static CheckpointTensor fp8(SafetensorsTensor values, SafetensorsTensor scales, Fp8Scaling scaling) {
        String what = "tensor " + quote(values.name());
        if (values.rank() != 2) {
            throw new CheckpointFormatException(values.file(), what + " is F8_E4M3 with shape " + Arrays.toString(values.shape())
                    + "; block-scaled FP8 weights are matrices");
        }
        long[] expected = {scaling.scaleRows(values.dim(0)), scaling.scaleColumns(values.dim(1))};
        if (scales.dtype() == SafetensorsDtype.F8_E4M3) {
            throw new CheckpointFormatException(scales.file(), "tensor " + quote(scales.name()) + " is F8_E4M3; scales are F32, BF16 or F8_E8M0");
        }
        boolean matches = scaling.perTensor() ? scales.elementCount() == 1 : Arrays.equals(expected, scales.shape());
        if (!matches) {
            throw new CheckpointFormatException(scales.file(), "tensor " + quote(scales.name()) + " has shape "
                    + Arrays.toString(scales.shape()) + " but " + values.name() + " " + Arrays.toString(values.shape())
                    + " needs " + (scaling.perTensor() ? "one scale" : Arrays.toString(expected) + " scales of "
                    + scaling.blockRows() + "x" + scaling.blockColumns() + " blocks"));
        }
        return new CheckpointTensor(values, scales, scaling);
    }

    public String name() {
        return values.name();
    }

    /** The shape, outermost dimension first (PyTorch's order). */
    public long[] shape() {
        return values.shape();
    }

    /** How the values are stored: a dtype, or FP8 with its scaling. */
    public SafetensorsDtype dtype() {
        return values.dtype();
    }

    public boolean isFp8() {
        return scales != null;
    }

    /** The values as stored (FP8 ones before scaling). */
    public SafetensorsTensor stored() {
        return values;
    }

    /** An FP8 weight's scales as stored, or null. */
    public SafetensorsTensor storedScales() {
        return scales;
    }

    /** An FP8 weight's scaling, or null. */
    public Fp8Scaling scaling() {
        return scaling;
    }

    /** Values per row: the last dimension. */
    public long rowLength() {
        return rowLength;
    }

    public long rowCount() {
        return rowCount;
    }

    public long elementCount() {
        return values.elementCount();
    }

    /** Bytes read to read the whole tensor: its values and scales. */
    public long storedBytes() {
        return values.data().byteSize() + (scales == null ? 0 : scales.data().byteSize());
    }

    /**
     * Reads {@code count} values of row {@code row} starting at column {@code column} into {@code dst[at..]}.
     *
     * @throws CheckpointFormatException when a scale the checkpoint declares a power of two is not one
     */
    public void read(long row, long column, float[] dst, int at, int count) {
        if (row < 0 || row >= rowCount || column < 0 || count < 0 || column + count > rowLength) {
            throw new IndexOutOfBoundsException("row " + row + " columns " + column + ".." + (column + count) + " of " + this);
        }
        MemorySegment data = values.data();
        long first = row * rowLength + column;
        switch (values.dtype()) {
            case F32 -> FloatRuns.f32(data, first * 4, dst, at, count);
            case F16 -> FloatRuns.f16(data, first * 2, dst, at, count);
            case BF16 -> FloatRuns.bf16(data, first * 2, dst, at, count);
            case F8_E4M3 -> readFp8(row, column, dst, at, count);
            case F8_E8M0 -> {
                for (int i = 0; i < count; i++) {
                    dst[at + i] = SafetensorsDtype.F8_E8M0.get(data, first + i);
                }
            }
        }
    }

    /** The value at {@code row}, {@code column}. */
    public float get(long row, long column) {
        float value = values.dtype().get(values.data(), row * rowLength + column);
        return scales == null ? value : value * scale(row, column / blockColumns());
    }

    /**
     * An FP8 row piece: with f32 block scales (as GLM-5-FP8 and DeepSeek-V3 store them) in one pass over the row's
     * scales; otherwise, or where the scales must be checked to be powers of two, one block of columns at a time.
     */
    private void readFp8(long row, long column, float[] dst, int at, int count) {
        long offset = row * rowLength + column;
        if (scales.dtype() == SafetensorsDtype.F32 && !scaling.perTensor() && !scaling.powerOfTwoScales()) {
            long scaleOffset = row / scaling.blockRows() * scaleColumns * Float.BYTES;
            Fp8Rows.decode(values.data(), offset, scales.data(), scaleOffset, scaling.blockColumns(), column, dst, at, count);
            return;
        }
        long blockColumns = blockColumns();
        while (count > 0) {
            long block = column / blockColumns;
            int n = (int) Math.min(count, (block + 1) * blockColumns - column);
            Fp8Rows.decode(values.data(), offset, scale(row, block), dst, at, n);
            column += n;
            offset += n;
            at += n;
            count -= n;
        }
    }

    private long blockColumns() {
        return scaling.perTensor() ? rowLength : scaling.blockColumns();
    }

    /** The scale of the block holding {@code row} and column block {@code block}. */
    private float scale(long row, long block) {
        long index = scaling.perTensor() ? 0 : row / scaling.blockRows() * scaleColumns + block;
        float scale = scales.dtype().get(scales.data(), index);
        if (scaling.powerOfTwoScales() && scales.dtype() != SafetensorsDtype.F8_E8M0 && !isPowerOfTwo(scale)) {
            throw new CheckpointFormatException(scales.file(), "tensor " + quote(scales.name()) + " holds " + scale
                    + " at block " + (scaling.perTensor() ? 0 : row / scaling.blockRows()) + ", " + block
                    + ", but quantization_config declares ue8m0 (power-of-two) scales");
        }
        return scale;
    }

    private static boolean isPowerOfTwo(float value) {
        int bits = Float.floatToRawIntBits(value);
        int exponent = (bits >>> 23) & 0xFF;
        int mantissa = bits & 0x7F_FFFF;
        return bits > 0 && exponent != 0xFF && (exponent == 0 ? Integer.bitCount(mantissa) == 1 : mantissa == 0);
    }

    @Override
    public String toString() {
        String storage = scales == null ? values.dtype().toString() : scaling.toString();
        return values.name() + " " + Arrays.toString(values.shape()) + " (" + storage + ")";
    }
}
