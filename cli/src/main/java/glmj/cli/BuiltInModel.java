package glmj.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The tiny GLM-5 built into glmj (random weights, a UD-Q2_K_XL-like mix), shipped in this jar as a resource and
 * extracted once into the temporary directory, under a name made from a hash of its bytes, so it can be mapped.
 */
final class BuiltInModel {
    static final String RESOURCE = "glmj/cli/tiny-glm-dsa.gguf";

    private static Path path;

    private BuiltInModel() {
    }

    /** The extracted model file. */
    static synchronized Path path() {
        if (path == null) {
            path = extract();
        }
        return path;
    }

    private static Path extract() {
        try {
            byte[] bytes;
            try (InputStream in = BuiltInModel.class.getClassLoader().getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IOException("the built-in model " + RESOURCE + " is missing from glmj's jar");
                }
                bytes = in.readAllBytes();
            }
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 6);
            Path target = Path.of(System.getProperty("java.io.tmpdir"), "glmj-built-in-" + hash + ".gguf");
            if (!Files.isRegularFile(target) || Files.size(target) != bytes.length) {
                Path partial = Files.createTempFile(target.getParent(), "glmj-built-in-", ".partial");
                try {
                    Files.write(partial, bytes);
                    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(partial);
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
