package glmj.kernel;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The C library's float functions that ggml's scalar code calls, where a last bit decides near-ties downstream. They
 * are not always correctly rounded, so Java's double functions rounded to float ({@code (float) Math.exp(x)} and so on)
 * differ from them in the last bit now and then. Each is found once; where the linker's default libraries lack one,
 * Java's rounded double function stands in.
 */
public final class CMath {
    private static final MethodHandle EXPF = find("expf", 1);
    private static final MethodHandle COSF = find("cosf", 1);
    private static final MethodHandle SINF = find("sinf", 1);
    private static final MethodHandle POWF = find("powf", 2);

    private CMath() {
    }

    private static MethodHandle find(String name, int arguments) {
        FunctionDescriptor descriptor = arguments == 1 ? FunctionDescriptor.of(JAVA_FLOAT, JAVA_FLOAT)
                : FunctionDescriptor.of(JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT);
        return Linker.nativeLinker().defaultLookup().find(name)
                .map(f -> Linker.nativeLinker().downcallHandle(f, descriptor, Linker.Option.critical(false)))
                .orElse(null);
    }

    /**
     * expf, which ggml's scalar exponentials take (ggml_silu_f32, the sigmoid op, the flash attention's softmax):
     * glibc's rounds within 0.502 ulp, not always to the nearest float.
     */
    public static float expf(float x) {
        if (EXPF == null) {
            return (float) Math.exp(x);
        }
        try {
            return (float) EXPF.invokeExact(x);
        } catch (Throwable e) {
            throw new IllegalStateException("expf(" + x + ")", e);
        }
    }

    /** cosf, which ggml's rope takes for its angles (as sincosf, which gives what cosf and sinf give). */
    public static float cosf(float x) {
        if (COSF == null) {
            return (float) Math.cos(x);
        }
        try {
            return (float) COSF.invokeExact(x);
        } catch (Throwable e) {
            throw new IllegalStateException("cosf(" + x + ")", e);
        }
    }

    /** sinf, which ggml's rope takes for its angles. */
    public static float sinf(float x) {
        if (SINF == null) {
            return (float) Math.sin(x);
        }
        try {
            return (float) SINF.invokeExact(x);
        } catch (Throwable e) {
            throw new IllegalStateException("sinf(" + x + ")", e);
        }
    }

    /** powf, which ggml's rope takes for the ratio of its angles' frequencies. */
    public static float powf(float x, float y) {
        if (POWF == null) {
            return (float) Math.pow(x, y);
        }
        try {
            return (float) POWF.invokeExact(x, y);
        } catch (Throwable e) {
            throw new IllegalStateException("powf(" + x + ", " + y + ")", e);
        }
    }
}
