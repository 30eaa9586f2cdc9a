package dev.penumbra.eval.policy;

import dev.penumbra.core.forecast.Forecaster;

/**
 * A policy that feeds every observation to a forecaster and allocates what it makes of the forecast at the lead
 * (never below 0; nothing before the first observation). The forecast-driven policies differ only in that.
 */
abstract class ForecasterPolicy implements Policy {

  private final Forecaster forecaster;
  private final PolicyContext context;
  private int seen;

  ForecasterPolicy(PolicyContext context, Forecaster forecaster) {
    this.context = context;
    this.forecaster = forecaster;
  }

  /** The allocation from {@code forecaster}'s forecast {@code lead} steps ahead. */
  abstract double allocation(Forecaster forecaster, int lead);

  @Override
  public final void observe(double used) {
    forecaster.observe(context.trace().timeMillis(seen++), used);
  }

  @Override
  public final double allocate(int interval) {
    if (seen == 0) {
      return 0;
    }
    return Math.max(0, allocation(forecaster, context.lead()));
  }
}
