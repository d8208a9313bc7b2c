package glmj.testdata;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * GLM-5 itself as a Hugging Face FP8 checkpoint without weights: GLM-5's config.json sizes (n_embd 6144, 78 blocks of
 * which 3 dense, 64 heads of MLA with q_lora 2048 and kv_lora 512, 256 experts of 2048 of which 8 used plus one
 * shared, a dense FFN of 12288, a DSA indexer of 32 heads of 128, one MTP block, a vocabulary of 154,880) in
 * safetensors files whose data is never written, so they are sparse: 750 GB long, no disk space taken. For what
 * needs GLM-5's tensor names, types and shapes only, such as a quantization plan's sizes.
 */
public final class Glm5Shapes {
    public static final int VOCABULARY_SIZE = 154_880;
    private static final int BLOCKS = 78;

    static final GlmDsaShape SHAPE = new GlmDsaShape(
            6144, BLOCKS, 3, 1, VOCABULARY_SIZE, 202_752, 12_288,
            64, 2048, 512, 192, 64, 256,
            256, 8, 1, 2048, 2.5f,
            32, 128, 2048, allFull(),
            1_000_000f, 1e-5f);

    private Glm5Shapes() {
    }

    private static boolean[] allFull() {
        boolean[] full = new boolean[BLOCKS];
        Arrays.fill(full, true);
        return full;
    }

    /** Writes the checkpoint's files into {@code directory}, which is created if needed and must be empty. */
    public static void write(Path directory) throws IOException {
        GlmDsaCheckpoint.prepare(directory);
        GlmDsaCheckpoint.write(directory, SHAPE, GlmVocabulary.load(TestModels.qwen2Vocabulary()), false);
    }
}
