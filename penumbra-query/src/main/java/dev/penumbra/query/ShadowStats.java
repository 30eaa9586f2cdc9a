package dev.penumbra.query;

/**
 * What the gateway's shadows cost, against the budget they are held to.
 *
 * @param budget the share of primary time shadows may take (e.g. 0.05)
 * @param shadowNanos elapsed time of every shadow so far (plans, sample runs, the fast path's check)
 * @param primaryNanos elapsed time of every primary run so far
 * @param sampled queries whose sample ran (to the end or cut off)
 * @param cutOff sample runs cut off at their cost cap
 * @param reused queries on the fast path: neither planned nor sampled (settled, cheap, uncontended, budget)
 */
public record ShadowStats(double budget, long shadowNanos, long primaryNanos, long sampled, long cutOff,
    long reused) {

  /** Shadow time over primary time (NaN before any primary run): the overhead the budget bounds. */
  public double share() {
    return primaryNanos == 0 ? Double.NaN : (double) shadowNanos / primaryNanos;
  }
}
