package glmj.tensor.quantize;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GgmlMathTest {

    @Test
    void nearestIntRoundsHalfToEven() {
        assertEquals(2, GgmlMath.nearestInt(2.5f));
        assertEquals(4, GgmlMath.nearestInt(3.5f));
        assertEquals(-2, GgmlMath.nearestInt(-2.5f));
        assertEquals(0, GgmlMath.nearestInt(-0.5f));
        assertEquals(0, GgmlMath.nearestInt(0.49999997f));
        assertEquals(-7, GgmlMath.nearestInt(-6.6f));
        assertEquals(4194303, GgmlMath.nearestInt(4194303f));
    }

    @Test
    void roundfRoundsHalfAwayFromZero() {
        assertEquals(3f, GgmlMath.roundHalfAwayFromZero(2.5f));
        assertEquals(-3f, GgmlMath.roundHalfAwayFromZero(-2.5f));
        assertEquals(-1f, GgmlMath.roundHalfAwayFromZero(-0.5f));
        assertEquals(0f, GgmlMath.roundHalfAwayFromZero(0.49999997f));
        assertEquals(127f, GgmlMath.roundHalfAwayFromZero(127.00001f));
    }

    @Test
    void truncationGivesIntegerIndefiniteOutOfRange() {
        assertEquals(-2, GgmlMath.truncateLikeX86(-2.9f));
        assertEquals(16, GgmlMath.truncateLikeX86(16.5f));
        assertEquals(Integer.MIN_VALUE, GgmlMath.truncateLikeX86(Float.NaN));
        assertEquals(Integer.MIN_VALUE, GgmlMath.truncateLikeX86(Float.POSITIVE_INFINITY));
        assertEquals(Integer.MIN_VALUE, GgmlMath.truncateLikeX86(3e9f));
        assertEquals(Integer.MIN_VALUE, GgmlMath.truncateLikeX86(-2147483648f));
    }

    @Test
    void bestIndexPicksNearestLevelAndUpperOnTies() {
        byte[] levels = glmj.tensor.blocks.IQTables.KVALUES_IQ4NL;
        assertEquals(0, GgmlMath.bestIndexInt8(levels, -500f));
        assertEquals(15, GgmlMath.bestIndexInt8(levels, 500f));
        assertEquals(8, GgmlMath.bestIndexInt8(levels, 0f));
        assertEquals(7, GgmlMath.bestIndexInt8(levels, -5f));
        assertEquals(8, GgmlMath.bestIndexInt8(levels, -4.5f));
        assertEquals(14, GgmlMath.bestIndexInt8(levels, 100f));
    }
}
