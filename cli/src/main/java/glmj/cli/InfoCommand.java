package glmj.cli;

import glmj.engine.Units;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import glmj.gguf.GGUFFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "info",
        mixinStandardHelpOptions = true,
        description = {
            "Describes a GGUF model: architecture, hyperparameters, tokenizer, every tensor, and bytes and bits per weight per type.",
            "Any shard of a split model (NAME-00001-of-00003.gguf) describes the whole set."
        },
        footer = {"", "Examples:",
            "  glmj info GLM-5-UD-Q2_K_XL-00001-of-00006.gguf",
            "  glmj info --summary -m model.gguf       # without the tensor table",
            "  glmj info --json model.gguf | jq .total"})
final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "The GGUF file or any shard of a split set (default: the built-in tiny GLM-5).")
    Path file;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "The model, as the other commands take it: the same as FILE.")
    Path model;

    @Option(names = "--json", description = "Print one JSON object instead of text, for scripts.")
    boolean json;

    @Option(names = "--summary", description = "Leave out the tensor table.")
    boolean summary;

    @Override
    public Integer call() throws IOException {
        if (file != null && model != null) {
            throw new UserInputException("name the model once, as FILE or as -m FILE");
        }
        ModelInfo info;
        try (GGUFFile gguf = GGUFFile.open(file != null ? file : model != null ? model : BuiltInModel.path())) {
            info = ModelInfo.of(gguf);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ModelInfo shown = summary ? withoutTensors(info) : info;
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(shown));
        } else {
            printText(info, out);
        }
        out.flush();
        return 0;
    }

    private static ModelInfo withoutTensors(ModelInfo info) {
        return new ModelInfo(info.shards(), info.ggufVersion(), info.architecture(), info.name(), info.hyperparameters(),
                info.tokenizer(), null, info.types(), info.total(), info.memory());
    }

    private void printText(ModelInfo info, PrintWriter out) {
        out.printf("file          %s%n", info.shards().getFirst());
        if (info.shards().size() > 1) {
            out.printf("shards        %d (%s ... %s)%n", info.shards().size(),
                    Path.of(info.shards().getFirst()).getFileName(), Path.of(info.shards().getLast()).getFileName());
        }
        out.printf("gguf version  %d%n", info.ggufVersion());
        out.printf("architecture  %s%n", info.architecture());
        if (!info.name().isEmpty()) {
            out.printf("name          %s%n", info.name());
        }
        out.println();
        out.println("hyperparameters");
        int keyWidth = info.hyperparameters().keySet().stream().mapToInt(String::length).max().orElse(0);
        for (Map.Entry<String, Object> entry : info.hyperparameters().entrySet()) {
            out.printf("  %-" + keyWidth + "s  %s%n", entry.getKey(), text(entry.getValue()));
        }
        ModelInfo.Tokenizer tokenizer = info.tokenizer();
        out.println();
        out.println("tokenizer");
        out.printf("  model %s, pre-tokenizer %s, %,d tokens, %,d merges%n",
                tokenizer.model(), tokenizer.preTokenizer(), tokenizer.tokens(), tokenizer.merges());
        tokenizer.specialTokens().forEach((role, token) -> out.printf("  %-9s %s%n", role, token));
        out.printf("  chat template: %s%n", tokenizer.chatTemplateChars() > 0 ? tokenizer.chatTemplateChars() + " characters" : "none");
        if (!summary) {
            out.println();
            int nameWidth = Math.max(6, info.tensors().stream().mapToInt(tensor -> tensor.name().length()).max().orElse(0));
            out.printf("%-" + nameWidth + "s  %-8s  %-24s  %14s%n", "tensor", "type", "shape", "bytes");
            for (ModelInfo.Tensor tensor : info.tensors()) {
                out.printf("%-" + nameWidth + "s  %-8s  %-24s  %,14d%n",
                        tensor.name(), tensor.type(), Arrays.toString(tensor.shape()), tensor.bytes());
            }
        }
        out.println();
        out.printf("%-8s  %7s  %16s  %16s  %8s%n", "type", "tensors", "weights", "bytes", "bits/w");
        for (ModelInfo.TypeTotal type : info.types()) {
            printTotal(type, out);
        }
        printTotal(info.total(), out);
        out.printf("%ntotal: %d tensors, %s weights, %s%n", info.total().tensors(),
                Units.count(info.total().weights()), Units.bytes(info.total().bytes()));
        if (info.memory() != null) {
            out.printf("memory: %s of weights read per token; a KV cache of %s (%,d bytes) for the model's %,d-token context%n",
                    Units.bytes(info.memory().activeBytesPerToken()), Units.bytes(info.memory().kvCacheBytes()),
                    info.memory().kvCacheBytes(), info.memory().contextLength());
        }
    }

    private static void printTotal(ModelInfo.TypeTotal total, PrintWriter out) {
        out.printf("%-8s  %7d  %,16d  %,16d  %8.4f%n", total.type(), total.tensors(), total.weights(), total.bytes(), total.bitsPerWeight());
    }

    private static String text(Object value) {
        if (value != null && value.getClass().isArray()) {
            StringBuilder text = new StringBuilder("[");
            for (int i = 0; i < Array.getLength(value); i++) {
                text.append(i == 0 ? "" : ", ").append(Array.get(value, i));
            }
            return text.append(']').toString();
        }
        return String.valueOf(value);
    }
}
