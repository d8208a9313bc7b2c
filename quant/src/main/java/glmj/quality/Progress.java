package glmj.quality;

/** Told after each chunk of a quality run, for progress bars. */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total) -> { };

    /** {@code done} of {@code total} chunks are finished (counting those a resumed run found done). */
    void chunks(int done, int total);
}
