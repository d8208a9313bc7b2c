package glmj.tensor.blocks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The lookup tables that define ggml's IQ and FP4 formats, loaded once from {@code glmj/tensor/iq-tables.txt}
 * (generated from ggml-common.h by {@code runtime/src/main/scripts/extract-iq-tables}).
 * Grids are flattened to bytes in memory order: entry {@code i} of an 8-byte grid is {@code grid[8*i .. 8*i+7]},
 * which is how ggml reads them ({@code (const uint8_t *)(grid + i)}). The arrays are shared: never write to them.
 */
public final class IQTables {
    private static final String RESOURCE = "/glmj/tensor/iq-tables.txt";
    private static final Map<String, byte[]> TABLES = load();

    /** {@code 1 << j}: the bit of a sign byte that negates element j of an 8-element group. */
    public static final byte[] KMASK_IQ2XS = table("kmask_iq2xs", 8);
    /** 7-bit sign index to the 8 sign bits of a group (the 8th bit makes the count of negatives even). */
    public static final byte[] KSIGNS_IQ2XS = table("ksigns_iq2xs", 128);
    /** The 16 non-linear levels of IQ4_NL and IQ4_XS, signed. */
    public static final byte[] KVALUES_IQ4NL = table("kvalues_iq4nl", 16);
    /** The 16 E2M1 values of MXFP4, doubled so they are integers, signed. */
    public static final byte[] KVALUES_MXFP4 = table("kvalues_mxfp4", 16);
    /** IQ2_XXS: 256 entries of 8 unsigned magnitudes. */
    public static final byte[] IQ2XXS_GRID = table("iq2xxs_grid", 256 * 8);
    /** IQ2_XS: 512 entries of 8 unsigned magnitudes. */
    public static final byte[] IQ2XS_GRID = table("iq2xs_grid", 512 * 8);
    /** IQ2_S: 1024 entries of 8 unsigned magnitudes. */
    public static final byte[] IQ2S_GRID = table("iq2s_grid", 1024 * 8);
    /** IQ3_XXS: 256 entries of 4 unsigned magnitudes. */
    public static final byte[] IQ3XXS_GRID = table("iq3xxs_grid", 256 * 4);
    /** IQ3_S: 512 entries of 4 unsigned magnitudes. */
    public static final byte[] IQ3S_GRID = table("iq3s_grid", 512 * 4);
    /** IQ1_S and IQ1_M: 2048 entries of 8 signed values in {-1, 0, 1}. */
    public static final byte[] IQ1S_GRID = table("iq1s_grid", 2048 * 8);

    private IQTables() {
    }

    private static byte[] table(String name, int bytes) {
        byte[] table = TABLES.get(name);
        if (table == null || table.length != bytes) {
            throw new IllegalStateException(RESOURCE + ": table " + name + " is "
                    + (table == null ? "missing" : table.length + " bytes, expected " + bytes));
        }
        return table;
    }

    private static Map<String, byte[]> load() {
        try (InputStream in = IQTables.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the classpath");
            }
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + RESOURCE, e);
        }
    }

    /** Reads "name bits count" headers each followed by count hex values; stores each value little-endian. */
    private static Map<String, byte[]> parse(BufferedReader reader) throws IOException {
        Map<String, byte[]> tables = new HashMap<>();
        String name = null;
        byte[] table = null;
        int elementBytes = 0;
        int filled = 0;
        int lineNumber = 0;
        for (String line; (line = reader.readLine()) != null; ) {
            lineNumber++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.trim().split("\\s+");
            if (table == null || filled == table.length) {
                if (words.length != 3) {
                    throw new IllegalStateException(RESOURCE + ":" + lineNumber + ": expected a table header 'name bits count'");
                }
                name = words[0];
                elementBytes = Integer.parseInt(words[1]) / 8;
                table = new byte[Integer.parseInt(words[2]) * elementBytes];
                filled = 0;
                tables.put(name, table);
                continue;
            }
            for (String word : words) {
                if (filled == table.length) {
                    throw new IllegalStateException(RESOURCE + ":" + lineNumber + ": table " + name + " has too many values");
                }
                long value = Long.parseUnsignedLong(word, 16);
                for (int b = 0; b < elementBytes; b++) {
                    table[filled++] = (byte) (value >>> (8 * b));
                }
            }
        }
        if (table != null && filled != table.length) {
            throw new IllegalStateException(RESOURCE + ": table " + name + " ends after " + filled + " of " + table.length + " bytes");
        }
        return tables;
    }
}
