package dev.penumbra.eval.policy;

/**
 * A fixed allocation: the given value, or else the peak of the trace's first 24 hours. While that first day
 * is still being observed it allocates the running peak so far (it never looks ahead), then freezes.
 */
final class StaticPolicy implements Policy {

  static final long DAY_MILLIS = 24L * 3600 * 1000;

  private final double fixed;
  private final int learnIntervals;
  private int seen;
  private double peak;

  /** @param fixed the allocation, or NaN to learn the first-day peak */
  StaticPolicy(PolicyContext context, double fixed) {
    if (!Double.isNaN(fixed) && !(fixed >= 0 && Double.isFinite(fixed))) {
      throw new IllegalArgumentException("static allocation must be finite and >= 0, was " + fixed);
    }
    this.fixed = fixed;
    this.learnIntervals = context.intervals(DAY_MILLIS);
  }

  @Override
  public String name() {
    return "static";
  }

  @Override
  public void observe(double used) {
    if (seen < learnIntervals) {
      peak = Math.max(peak, used);
    }
    seen++;
  }

  @Override
  public double allocate(int interval) {
    return Double.isNaN(fixed) ? peak : fixed;
  }
}
