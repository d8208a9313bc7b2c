package glmj.quant;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The recipes glmj ships (resources {@code glmj/quant/recipes/NAME.recipe}, documented in docs/quantize.md). */
public final class Recipes {
    /** The built-in recipes' names, smallest files first. */
    public static final List<String> BUILT_IN = List.of("Q2_K_XL", "Q3_K_XL", "Q4_K_M", "Q8_0", "BF16", "F32");
    /** Unsloth's prefix for its dynamic quants, accepted before a built-in name. */
    private static final String DYNAMIC_PREFIX = "UD-";

    private Recipes() {
    }

    /** Every built-in recipe, in {@link #BUILT_IN}'s order. */
    public static List<Recipe> builtIn() {
        return BUILT_IN.stream().map(Recipes::load).toList();
    }

    /**
     * The recipe {@code nameOrFile} names: a recipe file, or a built-in recipe's name (any case, {@code UD-} allowed in
     * front).
     *
     * @throws QuantizeException when it is neither
     */
    public static Recipe resolve(String nameOrFile) throws IOException {
        Path file = Path.of(nameOrFile);
        if (Files.isRegularFile(file)) {
            return Recipe.read(file);
        }
        String name = nameOrFile.toUpperCase(Locale.ROOT);
        if (name.startsWith(DYNAMIC_PREFIX)) {
            name = name.substring(DYNAMIC_PREFIX.length());
        }
        if (BUILT_IN.contains(name)) {
            return load(name);
        }
        throw new QuantizeException("unknown recipe '" + nameOrFile + "': neither a file nor one of the built-in recipes ("
                + String.join(", ", BUILT_IN) + "; see glmj quantize --list-recipes)");
    }

    private static Recipe load(String name) {
        String resource = "glmj/quant/recipes/" + name + Recipe.EXTENSION;
        try (InputStream in = Recipes.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("built-in recipe " + resource + " is missing from the jar");
            }
            return Recipe.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in recipe " + name, name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
