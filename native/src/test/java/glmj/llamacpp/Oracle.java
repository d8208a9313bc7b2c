package glmj.llamacpp;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The llama.cpp v0.5.0 install the comparison tests run against. A missing install fails the test (never skips it),
 * so that CI cannot pass without comparing.
 */
public final class Oracle {
    private Oracle() {}

    public static LlamaLibrary library() {
        try {
            return LlamaLibrary.load();
        } catch (LlamaLibraryException e) {
            throw new AssertionError(e.getMessage() + " (the comparison tests need llama.cpp: run scripts/install-llama)", e);
        }
    }

    /**
     * The Python in which llama.cpp's {@code convert_hf_to_gguf.py} runs (scripts/install-converter). Missing, it
     * fails the test when {@code glmj.require.llama} is true (scripts/test sets it) and skips it otherwise.
     */
    public static Path converterPython() {
        Path python = Path.of(System.getProperty("glmj.converter.python", ".deps/llama-convert-venv/bin/python"));
        if (!Files.isExecutable(python)) {
            String problem = python + " is missing: run scripts/install-converter";
            if (Boolean.getBoolean("glmj.require.llama")) {
                throw new AssertionError(problem);
            }
            Assumptions.abort(problem);
        }
        return python;
    }

    /** A file of llama.cpp's source tree, installed beside the libraries by scripts/install-llama. */
    public static Path source(String relative) {
        String root = System.getProperty("glmj.llama.src", ".deps/llama-v0.5.0/src");
        Path file = Path.of(root, relative);
        if (!Files.exists(file)) {
            throw new AssertionError(file + " is missing: run scripts/install-llama");
        }
        return file;
    }
}
