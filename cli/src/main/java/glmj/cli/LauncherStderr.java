package glmj.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The launcher ({@code ./glmj}) starts the JVM with stderr through a filter that drops the JVM's incubator-module
 * warning, and with the real stderr as file descriptor {@code -Dglmj.stderr.fd}. {@link #restore} makes that stderr
 * again, so nothing glmj prints goes through the filter: it keeps its order with stdout, and a terminal stays one.
 */
final class LauncherStderr {
    private static final int STDERR = 2;

    private LauncherStderr() {}

    /** Points file descriptor 2 back at the launcher's stderr, when the launcher passed it. */
    static void restore() {
        String passed = System.getProperty("glmj.stderr.fd");
        if (passed == null) {
            return;
        }
        try {
            Linker linker = Linker.nativeLinker();
            FunctionDescriptor intOfInts = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
            MethodHandle dup2 = linker.downcallHandle(linker.defaultLookup().findOrThrow("dup2"), intOfInts);
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().findOrThrow("close"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int descriptor = Integer.parseInt(passed);
            if ((int) dup2.invokeExact(descriptor, STDERR) == STDERR) {
                int closed = (int) close.invokeExact(descriptor);
            }
        } catch (Throwable e) {
            // stderr stays the filtered one, which loses nothing but the warning
        }
    }
}
