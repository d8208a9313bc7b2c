package glmj.cli;

import glmj.testdata.TestModels;
import java.nio.file.Path;

/** Where commands find a model when none is named. */
final class Models {
    private Models() {}

    /** The tiny GLM-5 built into glmj, extracted to a file once so it can be memory-mapped. */
    static Path embeddedDefault() {
        return TestModels.embeddedDefault();
    }
}
