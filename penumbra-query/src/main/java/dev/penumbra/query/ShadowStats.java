package dev.penumbra.query;

/**
 * What the gateway's shadows cost, against the budget they are held to.
 *
 * @param budget the share of primary time shadows may take (e.g. 0.05)
 * @param shadowNanos elapsed time of every shadow so far (plans and sample runs; the fast path runs neither)
 * @param primaryNanos elapsed time of every primary run so far
 * @param sampled queries whose sample ran (to the end or cut off)
 * @param cutOff sample runs cut off at their cost cap
 * @param planned new shapes only planned, not sampled, because the budget was spent (sized as the baseline)
 * @param reused queries on the fast path: neither planned nor sampled (settled, cheap, uncontended, budget)
 * @param checkNanos elapsed time of the sandbox's parser check on every query, whichever path it took: the cost of
 *     admitting client SQL safely, which runs with or without shadows and so is not held to the shadow budget
 */
public record ShadowStats(double budget, long shadowNanos, long primaryNanos, long sampled, long cutOff,
    long planned, long reused, long checkNanos) {

  /** Shadow time over primary time (NaN before any primary run): the overhead the budget bounds. */
  public double share() {
    return primaryNanos == 0 ? Double.NaN : (double) shadowNanos / primaryNanos;
  }

  /** Sandbox check time over primary time (NaN before any primary run). */
  public double checkShare() {
    return primaryNanos == 0 ? Double.NaN : (double) checkNanos / primaryNanos;
  }

  /** The same with the sandbox's check time as measured by the shadow engine. */
  ShadowStats withCheckNanos(long nanos) {
    return new ShadowStats(budget, shadowNanos, primaryNanos, sampled, cutOff, planned, reused, nanos);
  }
}
