package glmj.tensor.quantize;

import glmj.tensor.blocks.IQTables;

import java.util.Arrays;

/**
 * The search tables ggml's lattice quantizers look up, which {@code iq2xs_init_impl} and {@code iq3xs_init_impl}
 * build at init: every grid point of an IQ grid as levels {@code l} (stored as the odd coordinates {@code 2l + 1}),
 * a map from a vector of levels (2 or 3 bits each) to the grid point it is, and, for a vector that is no grid point,
 * its neighbours: the grid points at its {@code nwant} smallest distances, by distance then index. Each grid's
 * tables are built from the block format's own grid ({@link IQTables}) once, on first use (class initialization
 * makes that lazy and thread-safe).
 */
final class IQGridSearch {

    /** Coordinates per grid point: 8 for the IQ1 and IQ2 grids, 4 for IQ3's. */
    final int dimension;
    /** Grid point k's coordinates {@code 2l + 1} at {@code [dimension * k, dimension * (k + 1))}. */
    final byte[] points;
    /** The same as floats. */
    final float[] coordinates;
    private final int bitsPerLevel;
    /** ggml's kmap: a vector's grid index, or {@code -(offset + 1)} of its neighbour list, or {@link #UNLISTED}. */
    private final int[] map;
    /** ggml's neighbours: at each list's offset the count, then that many grid indices. */
    private final char[] neighbours;
    /** The map entry of a vector with a level the quantizers never produce, whose neighbours are not listed. */
    private static final int UNLISTED = Integer.MIN_VALUE;

    static IQGridSearch iq2xxs() {
        return Iq2xxs.SEARCH;
    }

    static IQGridSearch iq2xs() {
        return Iq2xs.SEARCH;
    }

    static IQGridSearch iq2s() {
        return Iq2s.SEARCH;
    }

    static IQGridSearch iq3xxs() {
        return Iq3xxs.SEARCH;
    }

    static IQGridSearch iq3s() {
        return Iq3s.SEARCH;
    }

    /** The grid of IQ1_S and IQ1_M, whose values -1, 0, 1 are levels 0, 1, 2. */
    static IQGridSearch iq1() {
        return Iq1.SEARCH;
    }

    private static final class Iq2xxs {
        static final IQGridSearch SEARCH = new IQGridSearch(IQTables.IQ2XXS_GRID, 8, 2, 3, 2);
    }

    private static final class Iq2xs {
        static final IQGridSearch SEARCH = new IQGridSearch(IQTables.IQ2XS_GRID, 8, 2, 3, 2);
    }

    private static final class Iq2s {
        static final IQGridSearch SEARCH = new IQGridSearch(IQTables.IQ2S_GRID, 8, 2, 3, 1);
    }

    private static final class Iq3xxs {
        static final IQGridSearch SEARCH = new IQGridSearch(IQTables.IQ3XXS_GRID, 4, 3, 8, 2);
    }

    private static final class Iq3s {
        static final IQGridSearch SEARCH = new IQGridSearch(IQTables.IQ3S_GRID, 4, 3, 8, 3);
    }

    private static final class Iq1 {
        static final IQGridSearch SEARCH = new IQGridSearch(IQTables.IQ1S_GRID, 8, 2, 3, 3);
    }

    /**
     * Tables for {@code grid} (signed bytes, {@code dimension} per point, a grid value's level being its rank among
     * the grid's distinct values), for vectors of {@code levels} levels, with neighbours at {@code nwant} distances.
     */
    private IQGridSearch(byte[] grid, int dimension, int bitsPerLevel, int levels, int nwant) {
        this.dimension = dimension;
        this.bitsPerLevel = bitsPerLevel;
        int gridSize = grid.length / dimension;
        byte[] values = distinctSorted(grid);
        points = new byte[grid.length];
        map = new int[1 << (bitsPerLevel * dimension)];
        Arrays.fill(map, UNLISTED);
        for (int k = 0; k < gridSize; k++) {
            int vector = 0;
            for (int i = 0; i < dimension; i++) {
                int l = Arrays.binarySearch(values, grid[dimension * k + i]);
                points[dimension * k + i] = (byte) (2 * l + 1);
                vector |= l << (bitsPerLevel * i);
            }
            map[vector] = k;
        }
        coordinates = new float[points.length];
        for (int i = 0; i < points.length; i++) {
            coordinates[i] = points[i];
        }
        char[] lists = new char[1 << 16];
        int used = 0;
        int[] distances = new int[gridSize];
        int[] histogram = new int[dimension * (2 * levels) * (2 * levels) + 1];
        byte[] position = new byte[dimension];
        for (int vector = 0; vector < map.length; vector++) {
            if (map[vector] >= 0 || !levelsBelow(vector, levels)) {
                continue;
            }
            for (int i = 0; i < dimension; i++) {
                position[i] = (byte) (2 * ((vector >>> (bitsPerLevel * i)) & ((1 << bitsPerLevel) - 1)) + 1);
            }
            for (int k = 0; k < gridSize; k++) {
                int d2 = 0;
                for (int i = 0; i < dimension; i++) {
                    int diff = points[dimension * k + i] - position[i];
                    d2 += diff * diff;
                }
                distances[k] = d2;
            }
            if (used + 1 + gridSize > lists.length) {
                lists = Arrays.copyOf(lists, Math.max(2 * lists.length, used + 1 + gridSize));
            }
            map[vector] = -(used + 1);
            int start = used++;
            // the points at the nwant smallest distinct distances, nearest first, by index within a distance:
            // a counting sort over the few distances there are
            Arrays.fill(histogram, 0);
            for (int d2 : distances) {
                histogram[d2]++;
            }
            int have = 0;
            int farthest = -1;
            for (int d2 = 0; d2 < histogram.length && have < nwant; d2++) {
                if (histogram[d2] > 0) {
                    int count = histogram[d2];
                    histogram[d2] = used; // from here on: where the next point at this distance goes
                    used += count;
                    farthest = d2;
                    have++;
                }
            }
            for (int k = 0; k < gridSize; k++) {
                int d2 = distances[k];
                if (d2 <= farthest) {
                    lists[histogram[d2]++] = (char) k;
                }
            }
            lists[start] = (char) (used - start - 1);
        }
        neighbours = Arrays.copyOf(lists, used);
    }

    /** The grid index of the vector of levels {@code vector} (level i at bits {@code bitsPerLevel * i}), or -1. */
    int gridIndex(int vector) {
        int index = map[vector];
        return index >= 0 ? index : -1;
    }

    /** The packed vector of {@code levels[offset, offset + dimension)}. */
    int vector(byte[] levels, int offset) {
        int vector = 0;
        for (int i = 0; i < dimension; i++) {
            vector |= levels[offset + i] << (bitsPerLevel * i);
        }
        return vector;
    }

    /** Where the neighbour list of an off-grid {@code vector} starts: its count, then its grid indices. */
    private int neighbourList(int vector) {
        int index = map[vector];
        if (index == UNLISTED) {
            throw new IllegalStateException("no neighbours of level vector " + vector);
        }
        return -index - 1;
    }

    /**
     * Each grid point's coordinates as the values {@code levelValues[l]} of their levels, laid out as {@link #points}:
     * the table {@link #bestNeighbour} measures against.
     */
    float[] pointValues(float[] levelValues) {
        float[] values = new float[points.length];
        for (int i = 0; i < points.length; i++) {
            values[i] = levelValues[(points[i] - 1) / 2];
        }
        return values;
    }

    /**
     * ggml's {@code iq2_find_best_neighbour}, {@code iq3_find_best_neighbour} and the first part of
     * {@code iq1_find_best_neighbour2}: of the neighbours of the off-grid {@code vector}, the one whose values
     * {@code q} (from {@code pointValues}, a {@link #pointValues} table; {@link #coordinates} for the IQ2 and IQ3
     * searches) times {@code scale} have the least weighted squared error {@code Σ w (scale q - x)²}
     * against {@code x[xo..]}; stores its levels in {@code levels[lo..]} and returns its grid index, or -1 when no
     * neighbour's error is below {@code FLT_MAX}.
     */
    int bestNeighbour(int vector, float[] x, int xo, float[] weights, int wo, float scale, float[] pointValues,
                      byte[] levels, int lo) {
        int list = neighbourList(vector);
        float bestD2 = Float.MAX_VALUE;
        int best = -1;
        for (int j = 1; j <= neighbours[list]; j++) {
            int k = neighbours[list + j];
            float d2 = 0;
            for (int i = 0; i < dimension; i++) {
                float diff = scale * pointValues[dimension * k + i] - x[xo + i];
                d2 += weights[wo + i] * diff * diff;
            }
            if (d2 < bestD2) {
                bestD2 = d2;
                best = k;
            }
        }
        if (best >= 0) {
            putLevels(best, levels, lo);
        }
        return best;
    }

    /** Stores the levels of grid point {@code k} in {@code levels[lo, lo + dimension)}. */
    void putLevels(int k, byte[] levels, int lo) {
        for (int i = 0; i < dimension; i++) {
            levels[lo + i] = (byte) ((points[dimension * k + i] - 1) / 2);
        }
    }

    /** Whether every level of {@code vector} is below {@code levels}: the only vectors the quantizers look up. */
    private boolean levelsBelow(int vector, int levels) {
        for (int i = 0; i < dimension; i++) {
            if (((vector >>> (bitsPerLevel * i)) & ((1 << bitsPerLevel) - 1)) >= levels) {
                return false;
            }
        }
        return true;
    }

    private static byte[] distinctSorted(byte[] grid) {
        boolean[] seen = new boolean[256];
        for (byte value : grid) {
            seen[value + 128] = true;
        }
        byte[] values = new byte[256];
        int count = 0;
        for (int v = 0; v < 256; v++) {
            if (seen[v]) {
                values[count++] = (byte) (v - 128);
            }
        }
        return Arrays.copyOf(values, count);
    }
}
