package dev.penumbra.eval.policy;

import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecaster;

/**
 * Penumbra's own policy, wrapping the production forecaster the way Caffeine's simulator wraps the real cache:
 * {@link dev.penumbra.core.forecast.Forecasters#production} (the ensemble with its volatility band at the lead)
 * makes the forecast at the lead, and the allocation is its upper bound at {@code 1 - budget} — the quantile a
 * capability's reservation is sized at ({@code Allocator.size}), with the budget in the place of the priority.
 */
final class PenumbraPolicy implements Policy {

  static final double MIN_LEVEL = 0.5;
  static final double MAX_LEVEL = 0.995;

  private final Forecaster forecaster;
  private final PolicyContext context;
  private final double level;
  private int seen;

  PenumbraPolicy(PolicyContext context, Forecaster forecaster) {
    this.context = context;
    this.forecaster = forecaster;
    this.level = Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, 1 - context.budget()));
  }

  @Override
  public String name() {
    return "penumbra";
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
    Forecast f = forecaster.forecast(context.lead(), level);
    return Math.max(0, f.upper());
  }
}
