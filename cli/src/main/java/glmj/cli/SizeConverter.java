package glmj.cli;

import glmj.engine.Units;
import picocli.CommandLine;

/** picocli's converter of sizes as users write them ({@link Units#parseBytes}: 235G, 50GB, 200GiB). */
final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return Units.parseBytes(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
