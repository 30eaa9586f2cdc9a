package dev.penumbra.query.shadow;

/**
 * Estimates how many distinct values (groups) the full data holds from a sample: distinct values do not grow
 * linearly with the rows (a sample of 10% of the orders already sees most customers).
 *
 * <p>The estimator is the method of moments for a Bernoulli sample of units under equal frequencies: with D
 * groups over N units, each group spans N/D units and is seen with probability 1 - (1 - q)^(N/D), q = n/N, so the
 * sample is expected to show d = D (1 - (1 - q)^(N/D)) groups; solved for D (it is increasing in D) by bisection
 * on [d, d + N - n]. The frequency-based estimators (GEE, Chao) need how many groups the sample saw once and twice,
 * which a query's profile does not give (it counts groups only). A unit is what the sample keeps or drops whole:
 * a row of a table copied by row, an order with all its lines for lineitem.
 */
final class DistinctEstimator {
  private DistinctEstimator() {}

  /**
   * The distinct values in the full data.
   *
   * @param sampleDistinct distinct values the sample showed (>= 0)
   * @param sampleUnits units in the sample (>= sampleDistinct when each group has a unit)
   * @param fullUnits units in the full data (>= sampleUnits)
   */
  static double estimate(double sampleDistinct, double sampleUnits, double fullUnits) {
    if (!(sampleDistinct >= 0) || !(sampleUnits >= 0) || !(fullUnits >= sampleUnits)) {
      throw new IllegalArgumentException("need 0 <= distinct, 0 <= sample units <= full units, was distinct "
          + sampleDistinct + ", sample units " + sampleUnits + ", full units " + fullUnits);
    }
    if (sampleDistinct == 0 || sampleUnits == 0 || fullUnits == sampleUnits) {
      return sampleDistinct;
    }
    double d = Math.min(sampleDistinct, sampleUnits);
    double q = sampleUnits / fullUnits;
    if (d >= sampleUnits) {
      return fullUnits; // every sampled unit is its own group: all of them are
    }
    double lo = d;
    double hi = d + (fullUnits - sampleUnits);
    for (int i = 0; i < 100 && hi - lo > 1e-6 * hi; i++) {
      double mid = 0.5 * (lo + hi);
      if (expectedSeen(mid, fullUnits, q) < d) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return 0.5 * (lo + hi);
  }

  /** Groups a sample of share q is expected to show when D groups share N units equally. */
  static double expectedSeen(double groups, double units, double q) {
    return groups * -Math.expm1(units / groups * Math.log1p(-q));
  }
}
