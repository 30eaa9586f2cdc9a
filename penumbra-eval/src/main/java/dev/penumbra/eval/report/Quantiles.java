package dev.penumbra.eval.report;

import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType;

/**
 * The one quantile every benchmark reports: the nearest rank (the smallest value with at least {@code q} of the
 * values at or below it, commons-math3's estimation type R-1), so a reported p99 is a latency that was observed,
 * never an interpolation between two. The same rule as the product's {@link dev.penumbra.core.Quantiles}.
 */
public final class Quantiles {
  private Quantiles() {}

  /** The {@code q}-quantile (in (0, 1]) of {@code values} in any order; NaN when there are none. */
  public static double of(double[] values, double q) {
    if (!(q > 0 && q <= 1)) {
      throw new IllegalArgumentException("quantile must be in (0, 1], was " + q);
    }
    if (values.length == 0) {
      return Double.NaN;
    }
    return new Percentile().withEstimationType(EstimationType.R_1).evaluate(values, q * 100);
  }

  /** The {@code q}-quantile of values already sorted ascending, without copying; NaN when there are none. */
  public static double sorted(double[] sorted, double q) {
    if (!(q > 0 && q <= 1)) {
      throw new IllegalArgumentException("quantile must be in (0, 1], was " + q);
    }
    return dev.penumbra.core.Quantiles.ofSorted(sorted, q);
  }
}
