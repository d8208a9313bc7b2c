package glmj.kernel;

/**
 * Where the rows of a grouped matmul's input or output lie in {@code data}: row {@code b} of group {@code g} at
 * {@code offset + g * groupStride + b * stride}. A {@code groupStride} of 0 gives every group the same rows (the
 * experts' shared input). Made once per buffer and shape, so a step builds nothing.
 */
public record Rows(float[] data, int offset, int groupStride, int stride) {
}
