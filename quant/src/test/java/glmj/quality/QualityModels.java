package glmj.quality;

import glmj.testdata.TestModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** llama-quantize's quantizations of the tiny F32 GLM-5, made once into the test models' cache directory. */
final class QualityModels {
    private QualityModels() {
    }

    /** The tiny F32 model quantized by llama-quantize to {@code fileType} (Q8_0, Q6_K, Q4_K_M, ...). */
    static synchronized Path quantized(String fileType) throws IOException, InterruptedException {
        Path target = TestModels.cacheDirectory().resolve("quality-tiny-glm-dsa-" + fileType + ".gguf");
        if (!Files.isRegularFile(target)) {
            Path partial = target.resolveSibling(target.getFileName() + ".partial");
            LlamaTools.run("llama-quantize", TestModels.tinyF32().toString(), partial.toString(), fileType, "2").succeeded();
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }
}
