package glmj.gguf;

/**
 * The value types a GGUF metadata entry can have ({@code enum gguf_type} in gguf.h). {@code size} is the encoded byte
 * size of one value, 0 for the variable-length STRING and ARRAY.
 */
public enum GGUFValueType {
    UINT8(0, "u8", 1),
    INT8(1, "i8", 1),
    UINT16(2, "u16", 2),
    INT16(3, "i16", 2),
    UINT32(4, "u32", 4),
    INT32(5, "i32", 4),
    FLOAT32(6, "f32", 4),
    BOOL(7, "bool", 1),
    STRING(8, "str", 0),
    ARRAY(9, "arr", 0),
    UINT64(10, "u64", 8),
    INT64(11, "i64", 8),
    FLOAT64(12, "f64", 8);

    private static final GGUFValueType[] BY_ID = values();

    /** The id stored in the file. */
    public final int id;
    /** The short name {@code gguf_type_name} gives, used in messages. */
    public final String ggufName;
    /** Encoded bytes of one value; 0 for STRING and ARRAY. */
    public final int size;

    GGUFValueType(int id, String ggufName, int size) {
        this.id = id;
        this.ggufName = ggufName;
        this.size = size;
    }

    /** The type with this id, or {@code null} when GGUF defines none. */
    public static GGUFValueType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }
}
