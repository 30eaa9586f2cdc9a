package dev.penumbra.shard;

/**
 * A unit's predicted duration per key, with upper quantiles, from the history of similar work.
 *
 * @param p50 median milliseconds per key
 * @param p90 90th percentile
 * @param p99 99th percentile
 * @param samples how many profiles it rests on (0: no history, the prior was used)
 * @param basis which similarity level answered: "size", "function", "type" or "prior"
 */
public record CostEstimate(double p50, double p90, double p99, long samples, String basis) {

  public CostEstimate {
    if (!(p50 >= 0) || !(p90 >= p50) || !(p99 >= p90) || Double.isInfinite(p99)) {
      throw new IllegalArgumentException(
          "cost estimate quantiles must be finite and ordered 0 <= p50 <= p90 <= p99, were " + p50 + ", " + p90 + ", " + p99);
    }
  }

  /** The predicted duration of {@code keys} keys at a quantile level (0.5, 0.9 or 0.99; others round up). */
  public double millis(long keys, double level) {
    double perKey = level <= 0.5 ? p50 : level <= 0.9 ? p90 : p99;
    return perKey * keys;
  }
}
