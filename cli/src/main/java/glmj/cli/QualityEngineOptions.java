package glmj.cli;

import glmj.engine.Model;
import glmj.engine.Models;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How {@code glmj quality} runs models over a corpus's chunks: the engine and its kernels, exact unless
 * {@code --panels}, and the batching, named as llama-perplexity names it ({@code -b} over {@code -c} chunks share a
 * batch on the llama engine, as there).
 */
final class QualityEngineOptions {

    @Mixin
    EngineOptions engine;

    @Option(names = "--panels", description = "Multiply prompts of quantized (and FP8) weights with glmj's decoded panels where"
            + " they are faster (the K-quants' only with vectors of 256 bits or more), as 'run' and 'bench' do: rounded"
            + " otherwise than llama.cpp's kernels. By default every matmul rounds"
            + " as ggml's own kernels (llama.cpp's plain CPU kernels) do, so that what a comparison measures is the"
            + " quantization and not glmj's rounding: on a K-quant model the panels alone move the logits about as far"
            + " as llama.cpp's repacked kernels move its own (see README, Quality). On the llama engine: llama.cpp's"
            + " defaults, its weights repacked, instead of its plain kernels.")
    boolean panels;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "Tokens per batch; on the llama engine N/c chunks "
            + "share a batch, as in llama-perplexity, whose logits depend on it (default: ${DEFAULT-VALUE}).")
    int batchSize = 2048;

    /** Opens {@code model} (a GGUF or a checkpoint directory) for chunks of {@code chunkLength} tokens. */
    Model open(Path model, int chunkLength, PrintWriter notices) throws IOException {
        return Models.open(model, engine.options(chunkLength, batchSize, !panels), warning -> notices.println("glmj: " + warning));
    }

    int threads() {
        return engine.threads.count;
    }
}
