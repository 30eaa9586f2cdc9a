package dev.penumbra.eval.policy;

import dev.penumbra.core.forecast.Forecaster;

/**
 * Predictive-autoscaler style: a Holt-Winters forecast {@code lead} steps ahead, allocated as is — the point
 * forecast, with no headroom for its uncertainty.
 */
final class HoltWintersPolicy implements Policy {

  private final Forecaster forecaster;
  private final PolicyContext context;
  private int seen;

  HoltWintersPolicy(PolicyContext context, Forecaster forecaster) {
    this.context = context;
    this.forecaster = forecaster;
  }

  @Override
  public String name() {
    return "holt-winters";
  }

  @Override
  public void observe(double used) {
    forecaster.observe(context.trace().timeMillis(seen++), used);
  }

  @Override
  public double allocate(int interval) {
    if (seen == 0) {
      return 0;
    }
    return Math.max(0, forecaster.forecast(context.lead(), 0.9).point());
  }
}
