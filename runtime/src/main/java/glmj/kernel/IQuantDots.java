package glmj.kernel;

import glmj.tensor.blocks.IQ1_MBlock;
import glmj.tensor.blocks.IQ1_SBlock;
import glmj.tensor.blocks.IQ2_SBlock;
import glmj.tensor.blocks.IQ2_XSBlock;
import glmj.tensor.blocks.IQ2_XXSBlock;
import glmj.tensor.blocks.IQ3_SBlock;
import glmj.tensor.blocks.IQ3_XXSBlock;
import glmj.tensor.blocks.IQTables;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static glmj.kernel.Lanes.B;
import static glmj.kernel.Lanes.F;
import static glmj.kernel.Lanes.I;
import static glmj.kernel.Lanes.L;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * Dot kernels for the grid ("i-quant") types, with q8_K activations, computed as ggml's vec_dot for each: per group
 * of 32 weights the exact integer sum of (grid value * sign) . activation quants, times the group's odd integer scale
 * 2*level + 1 (per 16 weights for IQ2_XS, IQ2_S and IQ1_M), summed per super-block, times d_w * d_a in float, and a
 * constant factor at the end: 1/8 for the IQ2 types, 1/4 for IQ3_XXS, 1 for IQ3_S. The IQ1 types add a shift of
 * +-1/8 to every grid value: IQ1_S from the activations' 16-sums as ggml does, IQ1_M folded into the weights (see
 * {@link #IQ1M_RUNS}).
 *
 * <p>Each run of 8 weights is decoded as one 64-bit word: the grid entry (8 bytes; two 4-byte entries for the IQ3
 * types) with its signs applied in the word itself, then {@link #dot32} puts four runs into the lanes of one byte
 * vector (or two, or four, at narrower widths) for {@link Lanes#dot}. Nothing is allocated and nothing is written
 * to memory but the vector registers.
 */
public final class IQuantDots {
    /** Longs filling one {@link Lanes#B} vector (but at least 2 lanes: a 64-bit vector of one long is not intrinsified). */
    private static final VectorSpecies<Long> RUNS = VectorSpecies.of(long.class, VectorShape.forBitSize(Math.max(128, Lanes.BITS / 2)));

    /** Lane k alone of {@link #RUNS} (lanes past its length ignored). */
    private static final VectorMask<Long> LANE1 = VectorMask.fromLong(RUNS, 1L << 1);
    private static final VectorMask<Long> LANE2 = VectorMask.fromLong(RUNS, 1L << 2);
    private static final VectorMask<Long> LANE3 = VectorMask.fromLong(RUNS, 1L << 3);

    private static final long ONES = 0x0101010101010101L;

    /** The grids as one long per 8-byte entry, or one int per 4-byte entry, so an entry is one load. */
    private static final long[] IQ2XXS_RUNS = longs(IQTables.IQ2XXS_GRID);
    private static final long[] IQ2XS_RUNS = longs(IQTables.IQ2XS_GRID);
    private static final long[] IQ2S_RUNS = longs(IQTables.IQ2S_GRID);
    private static final long[] IQ1S_RUNS = longs(IQTables.IQ1S_GRID);
    /**
     * IQ1_M's shift changes sign every 8 weights, finer than the activations' 16-sums, so it is folded into the
     * weights: by 12-bit {@link IQ1_MBlock#run} (grid index and shift sign), the 8 bytes 8 * value + sign (-9..9).
     * One load per run; 32 KiB.
     */
    private static final long[] IQ1M_RUNS = iq1mRuns();
    private static final int[] IQ3XXS_QUADS = ints(IQTables.IQ3XXS_GRID);
    private static final int[] IQ3S_QUADS = ints(IQTables.IQ3S_GRID);

    /** Sign byte (bit j negates weight j, {@link IQTables#KMASK_IQ2XS}) to a word whose byte j is 0xFF where negated. */
    private static final long[] SIGN_MASKS = new long[256];
    /** The same for the 7-bit sign indices of {@link IQTables#KSIGNS_IQ2XS}. */
    private static final long[] KSIGN_MASKS = new long[128];

    static {
        for (int s = 0; s < 256; s++) {
            for (int j = 0; j < 8; j++) {
                if ((s & IQTables.KMASK_IQ2XS[j]) != 0) {
                    SIGN_MASKS[s] |= 0xFFL << (8 * j);
                }
            }
        }
        for (int i = 0; i < 128; i++) {
            KSIGN_MASKS[i] = SIGN_MASKS[IQTables.KSIGNS_IQ2XS[i] & 0xFF];
        }
        // signed() negates bytes within a word: exact only for magnitudes 1-127 (no byte carries into the next)
        byte[][] magnitudeGrids = {IQTables.IQ2XXS_GRID, IQTables.IQ2XS_GRID, IQTables.IQ2S_GRID, IQTables.IQ3XXS_GRID, IQTables.IQ3S_GRID};
        for (byte[] grid : magnitudeGrids) {
            for (byte magnitude : grid) {
                if (magnitude <= 0) {
                    throw new IllegalStateException("grid magnitude " + magnitude + " is not in 1..127");
                }
            }
        }
        // iq1_m scales its grid by 8 to fold the +-1/8 shift into the integer sum
        if (IQ1_MBlock.DELTA != 0.125f) {
            throw new IllegalStateException("IQ1_M's shift is not 1/8");
        }
    }

    private IQuantDots() {
    }

    private static long[] longs(byte[] bytes) {
        long[] words = new long[bytes.length / 8];
        for (int i = 0; i < bytes.length; i++) {
            words[i / 8] |= (bytes[i] & 0xFFL) << (8 * (i % 8));
        }
        return words;
    }

    private static long[] iq1mRuns() {
        byte[] runs = new byte[8 * 4096];
        for (int run = 0; run < 4096; run++) {
            for (int j = 0; j < 8; j++) {
                runs[8 * run + j] = (byte) (8 * IQTables.IQ1S_GRID[8 * IQ1_MBlock.gridIndex(run) + j] + IQ1_MBlock.deltaSign(run));
            }
        }
        return longs(runs);
    }

    private static int[] ints(byte[] bytes) {
        int[] words = new int[bytes.length / 4];
        for (int i = 0; i < bytes.length; i++) {
            words[i / 4] |= (bytes[i] & 0xFF) << (8 * (i % 4));
        }
        return words;
    }

    /** Eight magnitudes (bytes 1-127) with the bytes under {@code mask} (0xFF or 0) negated: ~m + 1 = -m, no carries. */
    private static long signed(long magnitudes, long mask) {
        return (magnitudes ^ mask) + (mask & ONES);
    }

    /** Two IQ3 grid entries of 4 magnitudes as one run of 8. */
    private static long pair(int[] grid, int first, int second) {
        return (grid[first] & 0xFFFFFFFFL) | ((long) grid[second] << 32);
    }

    /** One run of 8 signed weights in a {@link Lanes#B} vector of 8 lanes (128-bit shapes). */
    private static ByteVector run(long r) {
        return (ByteVector) LongVector.broadcast(RUNS, r).reinterpretShape(B, 0);
    }

    /** Two runs in a {@link Lanes#B} vector of 16 lanes (256-bit shapes). (A 128-bit blend is not intrinsified.) */
    private static ByteVector runs(long r0, long r1) {
        return LongVector.broadcast(RUNS, r0).withLane(1, r1).reinterpretAsBytes();
    }

    /**
     * Four runs in a {@link Lanes#B} vector of 32 lanes (512-bit shapes). Broadcasts blended lane by lane: cheaper than
     * {@code withLane}, which moves a 256-bit vector's upper half out and back for lanes 2 and 3.
     */
    private static ByteVector runs(long r0, long r1, long r2, long r3) {
        return LongVector.broadcast(RUNS, r0).blend(LongVector.broadcast(RUNS, r1), LANE1).blend(r2, LANE2).blend(r3, LANE3)
                .reinterpretAsBytes();
    }

    /** The weights {@code [p, p+L)} of four runs, in a {@link Lanes#B} vector. */
    private static ByteVector step(long r0, long r1, long r2, long r3, int p) {
        if (L == 32) {
            return runs(r0, r1, r2, r3);
        }
        if (L == 16) {
            return p == 0 ? runs(r0, r1) : runs(r2, r3);
        }
        // 128-bit shapes: 8 weights a step
        return run(p == 0 ? r0 : p == 8 ? r1 : p == 16 ? r2 : r3);
    }

    /**
     * Four runs of 8 signed weights (as little-endian words) dotted with activation quants {@code q[at..at+32)}, the
     * first 16 products times {@code first} and the last 16 times {@code second}, in {@link Lanes#I}'s lanes. A loop
     * over the steps rather than one written out per width: at 128 bits the unrolled form made the kernels too large
     * for C2 to inline all their vector operations (and a vector passed to a call is boxed).
     */
    private static IntVector dot32(long r0, long r1, long r2, long r3, short[] q, int at, int first, int second) {
        IntVector sum = IntVector.zero(I);
        for (int p = 0; p < 32; p += L) {
            sum = Lanes.dot(step(r0, r1, r2, r3, p), q, at + p).mul(Lanes.sixteenScales(p, first, second)).add(sum);
        }
        return sum;
    }

    /** As {@link #dot32} with one scale for all 32. */
    private static IntVector dot32(long r0, long r1, long r2, long r3, short[] q, int at, int scale) {
        IntVector sum = IntVector.zero(I);
        for (int p = 0; p < 32; p += L) {
            sum = Lanes.dot(step(r0, r1, r2, r3, p), q, at + p).add(sum);
        }
        return sum.lanewise(VectorOperators.MUL, IntVector.broadcast(I, scale));
    }

    /** acc + the super-block's integer lanes times its scale {@code d}, lane by lane as ggml's AVX2 kernels do. */
    private static FloatVector accumulate(FloatVector acc, IntVector sum, float d) {
        return ((FloatVector) sum.convertShape(VectorOperators.I2F, F, 0)).lanewise(FMA, FloatVector.broadcast(F, d), acc);
    }

    private static long iq2xxsRun(long group, int signsAndScale, int l) {
        return signed(IQ2XXS_RUNS[IQ2_XXSBlock.gridIndex(group, l)], KSIGN_MASKS[IQ2_XXSBlock.signIndex(signsAndScale, l)]);
    }

    public static float iq2_xxs(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 256;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ2_XXSBlock.BYTES;
            int at = row * a.cols + 256 * b;
            IntVector sum = IntVector.zero(I);
            for (int g = 0; g < 8; g++) {
                long group = IQ2_XXSBlock.group(w, block, g);
                int word = IQ2_XXSBlock.signsAndScale(group);
                sum = sum.lanewise(ADD, dot32(iq2xxsRun(group, word, 0), iq2xxsRun(group, word, 1), iq2xxsRun(group, word, 2),
                        iq2xxsRun(group, word, 3), q, at + 32 * g, 2 * IQ2_XXSBlock.scale(word) + 1));
            }
            acc = accumulate(acc, sum, IQ2_XXSBlock.d(w, block) * a.scales[at / 256]);
        }
        // (2*level + 1) / 8 = (0.5 + level) / 4, the dequantized scale
        return 0.125f * Lanes.sum(acc);
    }

    private static long iq2xsRun(long runs, int l) {
        int run = IQ2_XSBlock.run(runs, l);
        return signed(IQ2XS_RUNS[IQ2_XSBlock.gridIndex(run)], KSIGN_MASKS[IQ2_XSBlock.signIndex(run)]);
    }

    public static float iq2_xs(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 256;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ2_XSBlock.BYTES;
            int at = row * a.cols + 256 * b;
            IntVector sum = IntVector.zero(I);
            for (int g = 0; g < 8; g++) {
                long runs = IQ2_XSBlock.runs(w, block, g);
                int scales = IQ2_XSBlock.scales(w, block, g);
                sum = sum.lanewise(ADD, dot32(iq2xsRun(runs, 0), iq2xsRun(runs, 1), iq2xsRun(runs, 2), iq2xsRun(runs, 3), q, at + 32 * g,
                        2 * IQ2_XSBlock.scale(scales, 0) + 1, 2 * IQ2_XSBlock.scale(scales, 1) + 1));
            }
            acc = accumulate(acc, sum, IQ2_XSBlock.d(w, block) * a.scales[at / 256]);
        }
        return 0.125f * Lanes.sum(acc);
    }

    private static long iq2sRun(int lowIndices, int highIndices, int signs, int l) {
        return signed(IQ2S_RUNS[IQ2_SBlock.gridIndex(lowIndices, highIndices, l)], SIGN_MASKS[IQ2_SBlock.runSigns(signs, l)]);
    }

    public static float iq2_s(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 256;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ2_SBlock.BYTES;
            int at = row * a.cols + 256 * b;
            IntVector sum = IntVector.zero(I);
            for (int g = 0; g < 8; g++) {
                int low = IQ2_SBlock.lowIndices(w, block, g);
                int high = IQ2_SBlock.highIndices(w, block, g);
                int signs = IQ2_SBlock.signs(w, block, g);
                int scales = IQ2_SBlock.scales(w, block, g);
                sum = sum.lanewise(ADD, dot32(iq2sRun(low, high, signs, 0), iq2sRun(low, high, signs, 1), iq2sRun(low, high, signs, 2),
                        iq2sRun(low, high, signs, 3), q, at + 32 * g,
                        2 * IQ2_XSBlock.scale(scales, 0) + 1, 2 * IQ2_XSBlock.scale(scales, 1) + 1));
            }
            acc = accumulate(acc, sum, IQ2_SBlock.d(w, block) * a.scales[at / 256]);
        }
        return 0.125f * Lanes.sum(acc);
    }

    private static long iq3xxsRun(long quads, int signsAndScale, int l) {
        long magnitudes = pair(IQ3XXS_QUADS, IQ3_XXSBlock.gridIndex(quads, 2 * l), IQ3_XXSBlock.gridIndex(quads, 2 * l + 1));
        return signed(magnitudes, KSIGN_MASKS[IQ3_XXSBlock.signIndex(signsAndScale, l)]);
    }

    public static float iq3_xxs(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 256;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ3_XXSBlock.BYTES;
            int at = row * a.cols + 256 * b;
            IntVector sum = IntVector.zero(I);
            for (int g = 0; g < 8; g++) {
                long quads = IQ3_XXSBlock.quads(w, block, g);
                int word = IQ3_XXSBlock.signsAndScale(w, block, g);
                sum = sum.lanewise(ADD, dot32(iq3xxsRun(quads, word, 0), iq3xxsRun(quads, word, 1), iq3xxsRun(quads, word, 2),
                        iq3xxsRun(quads, word, 3), q, at + 32 * g, 2 * IQ3_XXSBlock.scale(word) + 1));
            }
            acc = accumulate(acc, sum, IQ3_XXSBlock.d(w, block) * a.scales[at / 256]);
        }
        // (2*level + 1) / 4 = (0.5 + level) / 2, the dequantized scale
        return 0.25f * Lanes.sum(acc);
    }

    private static long iq3sRun(long lowIndices, int highIndices, int signs, int l) {
        long magnitudes = pair(IQ3S_QUADS, IQ3_SBlock.gridIndex(lowIndices, highIndices, 2 * l),
                IQ3_SBlock.gridIndex(lowIndices, highIndices, 2 * l + 1));
        return signed(magnitudes, SIGN_MASKS[IQ3_SBlock.runSigns(signs, l)]);
    }

    public static float iq3_s(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 256;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ3_SBlock.BYTES;
            int at = row * a.cols + 256 * b;
            IntVector sum = IntVector.zero(I);
            for (int g = 0; g < 8; g++) {
                long low = IQ3_SBlock.lowIndices(w, block, g);
                int high = IQ3_SBlock.highIndices(w, block, g);
                int signs = IQ3_SBlock.signs(w, block, g);
                sum = sum.lanewise(ADD, dot32(iq3sRun(low, high, signs, 0), iq3sRun(low, high, signs, 1), iq3sRun(low, high, signs, 2),
                        iq3sRun(low, high, signs, 3), q, at + 32 * g, 2 * IQ3_SBlock.scale(w, block, g) + 1));
            }
            acc = accumulate(acc, sum, IQ3_SBlock.d(w, block) * a.scales[at / 256]);
        }
        return Lanes.sum(acc);
    }

    public static float iq1_s(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 256;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        float shifts = 0;
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ1_SBlock.BYTES;
            int at = row * a.cols + 256 * b;
            IntVector sum = IntVector.zero(I);
            // the +-1/8 shift times the activations: from their 16-sums, as ggml does
            int shiftSum = 0;
            for (int g = 0; g < 8; g++) {
                int low = IQ1_SBlock.lowIndices(w, block, g);
                int qh = IQ1_SBlock.qh(w, block, g);
                int scale = 2 * IQ1_SBlock.scale(qh) + 1;
                sum = sum.lanewise(ADD, dot32(IQ1S_RUNS[IQ1_SBlock.gridIndex(low, qh, 0)], IQ1S_RUNS[IQ1_SBlock.gridIndex(low, qh, 1)],
                        IQ1S_RUNS[IQ1_SBlock.gridIndex(low, qh, 2)], IQ1S_RUNS[IQ1_SBlock.gridIndex(low, qh, 3)], q, at + 32 * g, scale));
                shiftSum += scale * IQ1_SBlock.deltaSign(qh) * (a.sums16[at / 16 + 2 * g] + a.sums16[at / 16 + 2 * g + 1]);
            }
            float d = IQ1_SBlock.d(w, block) * a.scales[at / 256];
            acc = accumulate(acc, sum, d);
            shifts += d * shiftSum;
        }
        return Lanes.sum(acc) + IQ1_SBlock.DELTA * shifts;
    }

    public static float iq1_m(MemorySegment w, long offset, Activations a, int row) {
        int blocks = a.cols / 256;
        short[] q = a.quants;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = offset + (long) b * IQ1_MBlock.BYTES;
            int at = row * a.cols + 256 * b;
            long scales = IQ1_MBlock.scales(w, block);
            IntVector sum = IntVector.zero(I);
            for (int g = 0; g < 8; g++) {
                int low = IQ1_MBlock.lowIndices(w, block, g);
                int qh = IQ1_MBlock.qh(w, block, g);
                sum = sum.lanewise(ADD, dot32(IQ1M_RUNS[IQ1_MBlock.run(low, qh, 0)], IQ1M_RUNS[IQ1_MBlock.run(low, qh, 1)],
                        IQ1M_RUNS[IQ1_MBlock.run(low, qh, 2)], IQ1M_RUNS[IQ1_MBlock.run(low, qh, 3)], q, at + 32 * g,
                        2 * IQ1_MBlock.scale(scales, 2 * g) + 1, 2 * IQ1_MBlock.scale(scales, 2 * g + 1) + 1));
            }
            acc = accumulate(acc, sum, IQ1_MBlock.d(scales) * a.scales[at / 256]);
        }
        // 8 * (value + sign / 8) was summed: ggml's grid sum + IQ1M_DELTA * its shift sum, exactly, times 8
        return IQ1_MBlock.DELTA * Lanes.sum(acc);
    }
}
