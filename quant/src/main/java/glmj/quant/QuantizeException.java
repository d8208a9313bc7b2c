package glmj.quant;

/**
 * What is asked of a quantization cannot be done as asked: a malformed or unknown recipe, a type that needs an
 * importance matrix without one, an importance matrix of another model, a size budget no mix meets. The message is one
 * line naming what and where.
 */
public final class QuantizeException extends RuntimeException {
    public QuantizeException(String message) {
        super(message);
    }
}
