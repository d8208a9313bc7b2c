package glmj.quality;

import glmj.gguf.GGUFFile;
import glmj.testdata.TestModels;
import glmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LlamaPerplexityFilesTest {
    private static final int CONTEXT = 64;
    private static final int CHUNKS = 4;

    @TempDir
    Path scratch;

    @Test
    void glmjWritesTheBaseLlamaPerplexityWrites() throws Exception {
        Path model = TestModels.tinyF32();
        Path text = LlamaTools.corpusSlice(scratch, 20_000);
        Path llamas = scratch.resolve("llama.kld");
        LlamaTools.run("llama-perplexity", "-m", model.toString(), "-f", text.toString(), "-c", "" + CONTEXT,
                "--chunks", "" + CHUNKS, "-b", "" + CONTEXT, "-t", "2", "-nr", "--kl-divergence-base", llamas.toString()).succeeded();

        Tokenizer tokenizer;
        try (GGUFFile file = GGUFFile.open(model)) {
            tokenizer = Tokenizer.fromGGUF(file.metadata());
        }
        int[] tokens = Corpus.tokenize(tokenizer, Corpus.read(text));
        int chunks = Corpus.chunkCount(tokens.length, CONTEXT, CHUNKS);
        int[] used = java.util.Arrays.copyOf(tokens, chunks * CONTEXT);
        Path ours = scratch.resolve("glmj.kld");
        KldLayout layout = new KldLayout(CONTEXT, tokenizer.vocabularySize(), chunks);
        try (LlamaChunkLogits engine = new LlamaChunkLogits(List.of(model), CONTEXT, CONTEXT, 2, false);
             KldBaseWriter writer = KldBaseWriter.create(ours, layout, used)) {
            ReferenceRun.run(engine, writer, used, Corpus.evaluationTokens(used, CONTEXT, tokenizer), 2, Progress.NONE);
        }
        try (KldBaseReader reader = KldBaseReader.open(llamas)) {
            assertEquals(layout, reader.layout());
            assertArrayEquals(used, reader.tokens());
        }
        byte[] a = Files.readAllBytes(llamas), b = Files.readAllBytes(ours);
        assertEquals(a.length, b.length);
        int differ = 0, first = -1;
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                differ++;
                if (first < 0) first = i;
            }
        }
        System.out.println("differing bytes " + differ + " first at " + first + " of " + a.length + " header " + layout.headerBytes());
        assertEquals(0, differ);
    }
}
