package dev.penumbra.core;

/**
 * The product's one quantile of a sample: the nearest rank, the smallest value with at least {@code q} of the values
 * at or below it (commons-math3's estimation type R-1, Hyndman and Fan's definition 1). A quantile so taken is a value
 * that was observed, never an interpolation between two: a p99 of latencies is a latency that happened. Callers sort
 * once and ask for several levels. (The split-conformal quantile of the tree predictor is another rule, with its own
 * name.)
 */
public final class Quantiles {

  private Quantiles() {}

  /** The {@code q}-quantile, {@code q} in [0, 1] (0: the smallest), of values sorted ascending; NaN when empty. */
  public static double ofSorted(double[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN : sorted[rank(sorted.length, q)];
  }

  /**
   * The {@code q}-quantile of amounts sorted ascending.
   *
   * @throws IllegalArgumentException when there are none
   */
  public static long ofSorted(long[] sorted, double q) {
    if (sorted.length == 0) {
      throw new IllegalArgumentException("the quantile of no values is undefined");
    }
    return sorted[rank(sorted.length, q)];
  }

  /** The 0-based index of the nearest-rank {@code q}-quantile among {@code n >= 1} sorted values. */
  public static int rank(int n, double q) {
    if (!(q >= 0 && q <= 1)) {
      throw new IllegalArgumentException("quantile level must be in [0, 1], was " + q);
    }
    return Math.max(0, Math.min(n - 1, (int) Math.ceil(q * n) - 1));
  }
}
