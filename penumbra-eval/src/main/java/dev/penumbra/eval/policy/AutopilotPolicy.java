package dev.penumbra.eval.policy;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.forecast.SortedWindow;

/**
 * A moving-window recommender in the style of Google Autopilot: it keeps the last 24 hours of observed use
 * and recommends, for memory, the window's peak (memory cannot be throttled, so the peak), and for CPU, io
 * and network the window's 95th percentile (nearest rank) — without any further margin.
 */
final class AutopilotPolicy implements Policy {

  static final long WINDOW_MILLIS = 24L * 3600 * 1000;
  static final double PERCENTILE = 0.95;

  private final boolean peak;
  private final SortedWindow recent;

  AutopilotPolicy(PolicyContext context) {
    this.peak = context.trace().resource() == Dimension.MEMORY;
    this.recent = new SortedWindow(context.intervals(WINDOW_MILLIS));
  }

  @Override
  public String name() {
    return "autopilot";
  }

  @Override
  public void observe(double used) {
    recent.add(used);
  }

  @Override
  public double allocate(int interval) {
    return recent.nearestRank(peak ? 1.0 : PERCENTILE);
  }
}
