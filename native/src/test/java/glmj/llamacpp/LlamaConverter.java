package glmj.llamacpp;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** Runs llama.cpp's {@code convert_hf_to_gguf.py} in the Python environment scripts/install-converter makes. */
final class LlamaConverter {
    private LlamaConverter() {
    }

    /**
     * Converts {@code checkpoint} to {@code out} at {@code outType} ({@code f32}, {@code bf16} ...), the converter's
     * output going to {@code log}; a failure fails the test with the end of that output.
     */
    static void convert(Path checkpoint, String outType, Path out, Path log) throws Exception {
        Path python = Oracle.converterPython();
        Path script = Oracle.source("convert_hf_to_gguf.py");
        Process process = new ProcessBuilder(python.toString(), script.toString(), checkpoint.toString(),
                "--outtype", outType.toLowerCase(Locale.ROOT), "--outfile", out.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("llama.cpp's converter took more than 10 minutes");
        }
        if (process.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            throw new AssertionError("llama.cpp's converter failed:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
        }
    }
}
