package dev.penumbra.eval.policy;

import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecaster;

/**
 * Penumbra's own policy, wrapping the production forecaster the way Caffeine's simulator wraps the real cache:
 * {@link dev.penumbra.core.forecast.Forecasters#production} (the ensemble with its volatility band at the lead)
 * makes the forecast at the lead, and the allocation is its upper bound at {@code 1 - budget} — the quantile a
 * capability's reservation is sized at ({@code Allocator.size}), with the budget in the place of the priority.
 */
final class PenumbraPolicy extends ForecasterPolicy {

  static final double MIN_LEVEL = 0.5;
  static final double MAX_LEVEL = 0.995;

  private final double level;

  PenumbraPolicy(PolicyContext context, Forecaster forecaster) {
    super(context, forecaster);
    this.level = Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, 1 - context.budget()));
  }

  @Override
  public String name() {
    return "penumbra";
  }

  @Override
  double allocation(Forecaster forecaster, int lead) {
    Forecast f = forecaster.forecast(lead, level);
    return f.upper();
  }
}
