package glmj.quality;

/** Per scored position of a batch: what {@link LogProbs#compare} measures, before {@link KldStatistics} adds it up. */
final class TokenScores {
    float[] nll = new float[0];
    float[] nllBase = new float[0];
    double[] kld = new double[0];
    float[] pDiff = new float[0];
    boolean[] sameTop = new boolean[0];

    /** Room for {@code rows} positions. */
    void ensure(int rows) {
        if (nll.length < rows) {
            nll = new float[rows];
            nllBase = new float[rows];
            kld = new double[rows];
            pDiff = new float[rows];
            sameTop = new boolean[rows];
        }
    }
}
