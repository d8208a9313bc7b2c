package glmj.gguf;

/**
 * One metadata value as the reader and writer hold it. A scalar has {@code elementType == null} and is boxed in the
 * Java type of its width (Byte for u8/i8, Short for u16/i16, Integer for u32/i32, Long for u64/i64, Float, Double,
 * Boolean, String), unsigned values as their raw bits. An array has {@code type == ARRAY} and holds the Java array of
 * that same element class (byte[], short[], int[], long[], float[], double[], boolean[], String[]).
 */
record MetadataValue(GGUFValueType type, GGUFValueType elementType, Object value) {

    boolean isArray() {
        return type == GGUFValueType.ARRAY;
    }

    /** The type of the values: the scalar type, or the element type of an array. */
    GGUFValueType valueType() {
        return isArray() ? elementType : type;
    }

    int arrayLength() {
        return java.lang.reflect.Array.getLength(value);
    }

    /** Describes the type for messages: {@code u32} or {@code arr[str]}. */
    String typeName() {
        return isArray() ? "arr[" + elementType.ggufName + "]" : type.ggufName;
    }

    /** The value of integer element {@code index} of an integer array, or of an integer scalar (index ignored). */
    long integerAt(int index) {
        GGUFValueType t = valueType();
        Object v = value;
        return switch (t) {
            case UINT8 -> Byte.toUnsignedLong(isArray() ? ((byte[]) v)[index] : (Byte) v);
            case INT8 -> isArray() ? ((byte[]) v)[index] : (Byte) v;
            case UINT16 -> Short.toUnsignedLong(isArray() ? ((short[]) v)[index] : (Short) v);
            case INT16 -> isArray() ? ((short[]) v)[index] : (Short) v;
            case UINT32 -> Integer.toUnsignedLong(isArray() ? ((int[]) v)[index] : (Integer) v);
            case INT32 -> isArray() ? ((int[]) v)[index] : (Integer) v;
            case UINT64, INT64 -> isArray() ? ((long[]) v)[index] : (Long) v;
            default -> throw new IllegalStateException(t + " is not an integer type");
        };
    }

    /** A defensive copy of the value: arrays cloned, everything else immutable already. */
    Object copy() {
        return switch (value) {
            case byte[] a -> a.clone();
            case short[] a -> a.clone();
            case int[] a -> a.clone();
            case long[] a -> a.clone();
            case float[] a -> a.clone();
            case double[] a -> a.clone();
            case boolean[] a -> a.clone();
            case String[] a -> a.clone();
            default -> value;
        };
    }
}
