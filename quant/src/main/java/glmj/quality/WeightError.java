package glmj.quality;

/**
 * The error of a test tensor's values t against reference values r, over any number of values: the sums it needs,
 * in double, and the measures made from them. Relative RMS error ||t - r|| / ||r||, cosine similarity
 * (r . t) / (||r|| ||t||), signal-to-noise ratio 10 log10(||r||^2 / ||t - r||^2) in dB (infinite when t equals r), and
 * the largest |t - r|. Errors of several tensors merge into the error of all their values together.
 */
public final class WeightError {
    private long count;
    private double referenceSquares;
    private double testSquares;
    private double products;
    private double differenceSquares;
    private double maxAbs;

    public WeightError() {
    }

    /** An error from its sums, as a report stores them. */
    public WeightError(long count, double referenceSquares, double testSquares, double products, double differenceSquares,
            double maxAbs) {
        this.count = count;
        this.referenceSquares = referenceSquares;
        this.testSquares = testSquares;
        this.products = products;
        this.differenceSquares = differenceSquares;
        this.maxAbs = maxAbs;
    }

    /** Adds a run of values' sums. */
    void add(long values, double referenceSquares, double testSquares, double products, double differenceSquares, double maxAbs) {
        this.count += values;
        this.referenceSquares += referenceSquares;
        this.testSquares += testSquares;
        this.products += products;
        this.differenceSquares += differenceSquares;
        this.maxAbs = Math.max(this.maxAbs, maxAbs);
    }

    /** Adds {@code other}'s values to this one's. */
    public WeightError merge(WeightError other) {
        add(other.count, other.referenceSquares, other.testSquares, other.products, other.differenceSquares, other.maxAbs);
        return this;
    }

    public long count() {
        return count;
    }

    public double referenceSquares() {
        return referenceSquares;
    }

    public double testSquares() {
        return testSquares;
    }

    public double products() {
        return products;
    }

    public double differenceSquares() {
        return differenceSquares;
    }

    public double maxAbs() {
        return maxAbs;
    }

    /** ||t - r|| / ||r||; 0 for identical values, NaN when the reference is all zeros. */
    public double relativeRms() {
        return differenceSquares == 0 ? 0 : Math.sqrt(differenceSquares / referenceSquares);
    }

    /** (r . t) / (||r|| ||t||): 1 for identical values. */
    public double cosine() {
        return differenceSquares == 0 && referenceSquares > 0 ? 1 : products / Math.sqrt(referenceSquares * testSquares);
    }

    /** 10 log10(||r||^2 / ||t - r||^2); positive infinity for identical values. */
    public double snrDb() {
        return differenceSquares == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(referenceSquares / differenceSquares);
    }
}
