package glmj.bench;

import glmj.testdata.BenchGlmDsa;
import glmj.testdata.TestModels;

/** Prints the directory of the bench model's FP8 checkpoint, generating it on first use (scripts/bench-quantize-model). */
public final class BenchCheckpoint {
    private BenchCheckpoint() {
    }

    public static void main(String[] args) {
        BenchGlmDsa.Scale scale = args.length > 0 ? BenchGlmDsa.Scale.valueOf(args[0]) : BenchGlmDsa.Scale.FULL;
        System.out.println(TestModels.benchCheckpoint(scale));
    }
}
