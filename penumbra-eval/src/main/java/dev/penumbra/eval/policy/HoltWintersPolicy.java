package dev.penumbra.eval.policy;

import dev.penumbra.core.forecast.Forecaster;

/**
 * Predictive-autoscaler style: a Holt-Winters forecast {@code lead} steps ahead, allocated as is — the point
 * forecast, with no headroom for its uncertainty.
 */
final class HoltWintersPolicy extends ForecasterPolicy {

  HoltWintersPolicy(PolicyContext context, Forecaster forecaster) {
    super(context, forecaster);
  }

  @Override
  public String name() {
    return "holt-winters";
  }

  @Override
  double allocation(Forecaster forecaster, int lead) {
    return forecaster.forecast(lead, 0.9).point();
  }
}
