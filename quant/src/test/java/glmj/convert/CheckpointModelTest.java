package glmj.convert;

import glmj.engine.EngineChoice;
import glmj.engine.KernelChoice;
import glmj.engine.Model;
import glmj.engine.ModelOptions;
import glmj.engine.Models;
import glmj.engine.PrefetchChoice;
import glmj.generate.Processing;
import glmj.generate.Session;
import glmj.hf.HfCheckpoint;
import glmj.hf.SafetensorsDtype;
import glmj.tensor.GGMLType;
import glmj.testdata.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny FP8 checkpoint as a model ({@link CheckpointSource}, opened by {@link Models#open} through its
 * {@link CheckpointSourceProvider}) computes what glmj's converter's GGUF of it computes. Against a conversion that
 * keeps every tensor as stored but the FP8 ones, dequantized to F32, the logits of a prompt are equal bit for bit on the
 * vector kernels with exact rounding: the FP8 rows decode to exactly the converter's f32 values and are dotted in the
 * f32 kernel's order; norms, router and the indexer's head weights are F32 on both sides; attn_k_b and attn_v_b are the
 * converter's own F32. Against the all-F32 conversion the one difference is the BF16 head, whose activations the BF16
 * kernel rounds to BF16: each logit moves by at most 2^-9 * sum_j |w_j h_j| (BF16 keeps 8 bits of the normed hidden
 * state h), below 2^-9 * ||w||_2 * ||h||_2 with ||h||_2 at most sqrt(n) * max|output_norm| (RMS norm makes ||x||_2 =
 * sqrt(n)), plus the reordering of the sums (n * 2^-24 of the same).
 */
class CheckpointModelTest {
    private static final int CONTEXT = 64;
    private static final String PROMPT = "Call me Ishmael. Some years ago, never mind how long precisely, having little or no"
            + " money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little";

    static Path checkpoint;
    static Path asStored;
    static Path allF32;

    /** The converter's types keeping each tensor as stored, FP8 ones dequantized to F32 (and F32 where llama.cpp keeps F32). */
    private record AsStored() implements TensorTypes {
        @Override
        public GGMLType typeOf(ConvertedTensor tensor) {
            SafetensorsDtype stored = tensor.sources().getFirst().dtype();
            if (OutputType.keepsF32(tensor) || stored == SafetensorsDtype.F8_E4M3 || stored == SafetensorsDtype.F32) {
                return GGMLType.F32;
            }
            return stored == SafetensorsDtype.BF16 ? GGMLType.BF16 : GGMLType.F16;
        }

        @Override
        public int fileType() {
            return 0;
        }
    }

    @BeforeAll
    static void convert() throws IOException {
        checkpoint = TestModels.tinyCheckpoint();
        asStored = Files.createTempFile("glmj-checkpoint-as-stored", ".gguf");
        allF32 = Files.createTempFile("glmj-checkpoint-f32", ".gguf");
        try (HfCheckpoint hf = HfCheckpoint.open(checkpoint)) {
            CheckpointConverter.convert(hf, asStored, new AsStored(), "tiny", CheckpointConverter.Progress.NONE);
            CheckpointConverter.convert(hf, allF32, OutputType.F32, "tiny");
        }
    }

    @AfterAll
    static void deleteConversions() throws IOException {
        Files.deleteIfExists(asStored);
        Files.deleteIfExists(allF32);
    }

    /** Every position's logits of the prompt, run in batches of 16 on exact vector kernels. */
    static float[] logits(Path model) throws IOException {
        ModelOptions options = new ModelOptions(CONTEXT, 16, 2, EngineChoice.java, KernelChoice.vector, true, PrefetchChoice.auto);
        try (Model loaded = Models.open(model, options, notice -> { }); Session session = loaded.newSession()) {
            int[] tokens = loaded.tokenizer().encode(PROMPT, false, false);
            assertTrue(tokens.length > 32 && tokens.length < CONTEXT, tokens.length + " tokens");
            float[] all = new float[tokens.length * session.vocabularySize()];
            session.forward(tokens, 0, tokens.length, Processing.allLogits(all));
            return all;
        }
    }

    @Test
    void theCheckpointRunsAsItsConversionBitForBit() throws IOException {
        float[] fp8 = logits(checkpoint);
        float[] converted = logits(asStored);
        assertEquals(converted.length, fp8.length);
        for (int i = 0; i < fp8.length; i++) {
            if (Float.floatToRawIntBits(fp8[i]) != Float.floatToRawIntBits(converted[i])) {
                throw new AssertionError("logit " + i + ": checkpoint " + fp8[i] + ", its conversion " + converted[i]);
            }
        }
    }

    @Test
    void theAllF32ConversionDiffersByTheHeadsBf16ActivationsOnly() throws IOException {
        float[] fp8 = logits(checkpoint);
        float[] f32 = logits(allF32);
        double bound;
        try (HfCheckpoint hf = HfCheckpoint.open(checkpoint)) {
            var head = hf.findWeight("lm_head.weight").orElseThrow();
            var norm = hf.findWeight("model.norm.weight").orElseThrow();
            int n = Math.toIntExact(head.rowLength());
            float[] row = new float[n];
            double widestRow = 0;
            for (long r = 0; r < head.rowCount(); r++) {
                head.read(r, 0, row, 0, n);
                double squares = 0;
                for (float w : row) {
                    squares += (double) w * w;
                }
                widestRow = Math.max(widestRow, Math.sqrt(squares));
            }
            double largestGain = 0;
            for (int j = 0; j < n; j++) {
                largestGain = Math.max(largestGain, Math.abs(norm.get(0, j)));
            }
            bound = (0x1p-9 + n * 0x1p-24) * widestRow * Math.sqrt(n) * largestGain;
        }
        double largest = 0;
        int moved = 0;
        for (int i = 0; i < fp8.length; i++) {
            double difference = Math.abs(fp8[i] - f32[i]);
            largest = Math.max(largest, difference);
            moved += difference > 0 ? 1 : 0;
        }
        System.out.printf("checkpoint against its all-F32 conversion: %d of %d logits moved, by at most %.3g (bound %.3g)%n",
                moved, fp8.length, largest, bound);
        assertTrue(largest <= bound, "largest logit difference " + largest + " above the bound " + bound);
        assertTrue(moved > 0, "the BF16 head rounds its activations, which must show somewhere");
    }
}
