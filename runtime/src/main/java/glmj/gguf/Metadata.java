package glmj.gguf;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static glmj.gguf.GGUFFormatException.quote;

/**
 * The key-value metadata of a GGUF file, in file order. Typed getters convert only where no information is lost; a
 * missing key or a value of the wrong type is a {@link GGUFFormatException} naming the key and the file.
 */
public final class Metadata {
    private final Path file;
    private final Map<String, MetadataValue> values;

    Metadata(Path file, LinkedHashMap<String, MetadataValue> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    /** The file this metadata was read from (the first shard of a split set). */
    public Path file() {
        return file;
    }

    /** The keys in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The type of the value; {@link GGUFValueType#ARRAY} for arrays. */
    public GGUFValueType type(String key) {
        return entry(key).type();
    }

    /** The element type of an array value. */
    public GGUFValueType arrayElementType(String key) {
        MetadataValue v = entry(key);
        if (!v.isArray()) {
            throw wrongType(key, v, "an array");
        }
        return v.elementType();
    }

    /**
     * The value: a boxed scalar (Byte, Short, Integer, Long for the integer types by width, unsigned ones as raw bits;
     * Float, Double, Boolean), a String, or a Java array of those element classes (a fresh copy).
     */
    public Object get(String key) {
        return entry(key).copy();
    }

    public String getString(String key) {
        MetadataValue v = entry(key);
        if (v.type() != GGUFValueType.STRING) {
            throw wrongType(key, v, "str");
        }
        return (String) v.value();
    }

    public String getString(String key, String defaultValue) {
        return has(key) ? getString(key) : defaultValue;
    }

    /** An integer of any GGUF integer type whose value fits an int. */
    public int getInt(String key) {
        long value = getLong(key);
        if (value != (int) value) {
            throw new GGUFFormatException(file, "key " + quote(key) + " has value " + value + " which does not fit an int");
        }
        return (int) value;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    /** An integer of any GGUF integer type whose value fits a long (a u64 above 2^63-1 does not). */
    public long getLong(String key) {
        MetadataValue v = entry(key);
        if (v.isArray() || !v.type().isInteger()) {
            throw wrongType(key, v, "an integer");
        }
        long value = v.integerAt(0);
        if (v.type() == GGUFValueType.UINT64 && value < 0) {
            throw new GGUFFormatException(file, "key " + quote(key) + " has value " + Long.toUnsignedString(value)
                    + " which does not fit a long");
        }
        return value;
    }

    public long getLong(String key, long defaultValue) {
        return has(key) ? getLong(key) : defaultValue;
    }

    /** A f32, or a f64 rounded to float. */
    public float getFloat(String key) {
        MetadataValue v = entry(key);
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (float) (double) (Double) v.value();
            default -> throw wrongType(key, v, "f32 or f64");
        };
    }

    public float getFloat(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBoolean(String key) {
        MetadataValue v = entry(key);
        if (v.type() != GGUFValueType.BOOL) {
            throw wrongType(key, v, "bool");
        }
        return (Boolean) v.value();
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        return has(key) ? getBoolean(key) : defaultValue;
    }

    public String[] getStringArray(String key) {
        MetadataValue v = entry(key);
        if (!v.isArray() || v.elementType() != GGUFValueType.STRING) {
            throw wrongType(key, v, "arr[str]");
        }
        return ((String[]) v.value()).clone();
    }

    /** An array of any integer element type whose every value fits an int. */
    public int[] getIntArray(String key) {
        MetadataValue v = entry(key);
        if (!v.isArray() || !v.elementType().isInteger()) {
            throw wrongType(key, v, "an integer array");
        }
        int[] out = new int[v.arrayLength()];
        for (int i = 0; i < out.length; i++) {
            long value = v.integerAt(i);
            boolean fits = value == (int) value && !(v.elementType() == GGUFValueType.UINT64 && value < 0);
            if (!fits) {
                String shown = v.elementType() == GGUFValueType.UINT64 ? Long.toUnsignedString(value) : Long.toString(value);
                throw new GGUFFormatException(file, "key " + quote(key) + " element " + i + " has value " + shown
                        + " which does not fit an int");
            }
            out[i] = (int) value;
        }
        return out;
    }

    /** An array of f32, or of f64 rounded to float. */
    public float[] getFloatArray(String key) {
        MetadataValue v = entry(key);
        if (v.isArray() && v.elementType() == GGUFValueType.FLOAT32) {
            return ((float[]) v.value()).clone();
        }
        if (v.isArray() && v.elementType() == GGUFValueType.FLOAT64) {
            double[] doubles = (double[]) v.value();
            float[] out = new float[doubles.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) doubles[i];
            }
            return out;
        }
        throw wrongType(key, v, "arr[f32] or arr[f64]");
    }

    @Override
    public String toString() {
        return "Metadata of " + file + " (" + values.size() + " keys)";
    }

    /** The raw entries, for copying into a writer. */
    Map<String, MetadataValue> entries() {
        return values;
    }

    private MetadataValue entry(String key) {
        MetadataValue v = values.get(key);
        if (v == null) {
            throw new GGUFFormatException(file, "missing key " + quote(key));
        }
        return v;
    }

    private GGUFFormatException wrongType(String key, MetadataValue v, String expected) {
        return new GGUFFormatException(file, "key " + quote(key) + " is " + v.typeName() + ", expected " + expected);
    }
}
